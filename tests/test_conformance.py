"""The conformance runner: the adapter passes its own kit, and a service that answers wrongly
fails it with reasons that say what was wrong."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from adapter.api import create_app
from adapter.auth import authenticator_from_settings, mint_dev_token
from adapter.bootstrap import build_service
from adapter.cli import EXIT_USAGE, app
from adapter.conformance import Check, Kit, run
from adapter.errors import UsageError
from adapter.settings import Settings
from mappings.systems import ADJUDICATION, Canon
from tests.build_fixtures import FIXTURES

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

NOW = datetime(2026, 12, 15, 11, 0, tzinfo=UTC)
KIT = Kit(FIXTURES)
SCENARIOS = [p for p in (FIXTURES / "valid").iterdir() if p.suffix == ".json" and ".meta." not in p.name]
INPUTS = (
    len(
        [
            p
            for p in (FIXTURES / "valid").iterdir()
            if p.suffix in (".json", ".xml") and ".meta." not in p.name
        ]
    )
    + len([p for p in (FIXTURES / "invalid").iterdir() if not p.name.endswith(".expected.json")])
    + len([p for p in (FIXTURES / "cancel").iterdir() if p.name.endswith(".expected.json")])
    + sum(
        1
        for folder in ("eligibility", "prescriptions")
        for p in (FIXTURES / folder).iterdir()
        if ".meta." not in p.name and ".expected." not in p.name
    )
)
#: Every input, and the reads of every scenario.
CHECKS = INPUTS + len(SCENARIOS)


@pytest.fixture
def adapter_client(tmp_path: Path) -> Iterator[TestClient]:
    """The real service on a fresh SQLite store, behind a development token."""
    settings = Settings(data_dir=tmp_path, log_level="ERROR")
    service = build_service(settings)
    api = create_app(settings, service, authenticator_from_settings(settings), clock=lambda: NOW)
    token = mint_dev_token(
        tmp_path,
        client_id="dev-client",
        scopes=["system/Claim.write", "system/ClaimResponse.read"],
        now=NOW,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    with TestClient(api, headers={"Authorization": f"Bearer {token}"}) as client:
        yield client
    service.store.dispose()


def _failed(checks: list[Check]) -> dict[str, tuple[str, ...]]:
    return {check.fixture: check.problems for check in checks if not check.passed}


def test_the_adapter_passes_its_own_kit_twice(adapter_client: TestClient) -> None:
    """Every input of the kit is checked, and passes; sent again, the replays pass too."""
    first = run(adapter_client, KIT)
    assert len(first) == CHECKS
    assert {check.fixture for check in first} >= {f"reads/{path.name}" for path in SCENARIOS}
    assert _failed(first) == {}
    assert _failed(run(adapter_client, KIT)) == {}


def test_scenarios_go_after_those_that_precede_them() -> None:
    """A worked example that needs an earlier scenario's ledger is sent after it."""
    order = KIT.valid_order()
    for name in order:
        for before in KIT.meta(name).get("preceded-by", []):
            assert order.index(before) < order.index(name)
    assert len(order) == len(set(order))


def _service(answer: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(base_url="http://service.test", transport=httpx.MockTransport(answer))


def _claim_response(outcome: str, totals: dict[str, str]) -> dict[str, Any]:
    return {
        "resourceType": "ClaimResponse",
        "outcome": outcome,
        "total": [
            {
                "category": {"coding": [{"system": ADJUDICATION, "code": code}]},
                "amount": {"value": value, "currency": "EUR"},
            }
            for code, value in totals.items()
        ],
        "item": [],
    }


def test_wrong_answers_fail_with_what_was_wrong() -> None:
    """Valid inputs answered with a wrong outcome and no amounts, invalid ones with another issue."""

    valid = {p.read_bytes() for p in (FIXTURES / "valid").iterdir() if ".meta." not in p.name}

    def answer(request: httpx.Request) -> httpx.Response:
        if request.content in valid:
            bundle = {
                "resourceType": "Bundle",
                "entry": [{"resource": _claim_response("partial", {"benefit": "1.00"})}],
            }
            return httpx.Response(200, json=bundle)
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [
                {
                    "severity": "error",
                    "details": {"coding": [{"system": Canon().error, "code": "element-invalid"}]},
                    "expression": ["Bundle.nowhere"],
                }
            ],
        }
        return httpx.Response(422, json=outcome)

    with _service(answer) as client:
        failed = _failed(run(client, KIT))
    assert (
        failed["valid/01-purchase-standard.json"][0]
        == "ClaimResponse 1: outcome 'partial', expected 'complete'"
    )
    assert "AMO total eligible: None, expected 100.00" in failed["valid/01-purchase-standard.json"]
    assert failed["invalid/24-nir-key.json"] == (
        "missing issues [('nir-key', 'Bundle.entry[1].resource.identifier[0].value')]",
        "unexpected issues [('element-invalid', 'Bundle.nowhere')]",
    )
    assert failed["invalid/10-element-invalid.json"][0] == "expected HTTP 400, got 422"
    assert failed["reads/01-purchase-standard.json"]  # an answer naming no Claim cannot be read back


def test_a_refused_token_stops_the_run_at_once() -> None:
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(401, json={"resourceType": "OperationOutcome", "issue": []})

    with _service(answer) as client, pytest.raises(UsageError, match="HTTP 401"):
        run(client, KIT)
    assert len(calls) == 1


def test_the_command_refuses_a_directory_without_a_kit(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["conformance", "--fixtures", str(tmp_path)])
    assert result.exit_code == EXIT_USAGE
    assert "holds no valid/ and invalid/ fixture directories" in result.stderr


def test_the_command_reports_an_unreachable_service() -> None:
    arguments = ["conformance", "--base-url", "http://127.0.0.1:9", "--fixtures", str(FIXTURES)]
    result = CliRunner().invoke(app, [*arguments, "--timeout", "5"])
    assert result.exit_code == EXIT_USAGE
    assert "http://127.0.0.1:9" in result.stderr


def test_a_malformed_answer_is_a_problem_not_a_crash() -> None:
    """Answers of the wrong shape (an empty Bundle, a total with no amount) are reported."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers["content-type"].endswith("xml"):
            return httpx.Response(200, content=b"<Bundle/>")
        response = {"resourceType": "ClaimResponse", "total": [1]}
        broken = {"resourceType": "Bundle", "entry": [{"resource": response}]}
        return httpx.Response(200, json=broken)

    with _service(answer) as client:
        checks = run(client, KIT)
    assert checks
    assert not any(check.passed for check in checks)
    assert any("expected shape" in problem for check in checks for problem in check.problems)


def test_a_broken_kit_file_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    """A malformed expected file stops the run with its path (exit 2), not a traceback."""
    (tmp_path / "valid").mkdir()
    (tmp_path / "invalid").mkdir()
    (tmp_path / "invalid" / "01-x.json").write_text("{}", encoding="utf-8")
    (tmp_path / "invalid" / "01-x.expected.json").write_text('{"status": "400"}', encoding="utf-8")
    with _service(lambda request: httpx.Response(400)) as client, pytest.raises(UsageError, match="01-x"):
        run(client, Kit(tmp_path))
    result = CliRunner().invoke(app, ["conformance", "--fixtures", str(tmp_path)])
    assert result.exit_code == EXIT_USAGE
    assert "01-x.expected.json" in result.stderr
