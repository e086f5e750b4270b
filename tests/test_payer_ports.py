"""The payers are a seam: a fake AMO and AMC plugged in at the composition root answer through
the real service (HTTP, store, replay) and the real command line, with nothing else changed."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapter.bootstrap import Composition, build_app
from adapter.cli import app as cli
from adapter.domain import LineDecision, Money, Outcome, PayerDecision, PayerKind, ReimbursementRequest
from adapter.payers import AmoAnswer, PayerPair, PayerRecords
from adapter.settings import Settings
from mappings.fhir import jsonio

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "valid" / "01-purchase-standard.json"
NOW = datetime(2026, 12, 15, 11, 0, tzinfo=UTC)


def _decision(request: ReimbursementRequest, payer: PayerKind, share: str, now: datetime) -> PayerDecision:
    """Every line paid ``share`` × its price: nothing the reference payers would answer."""
    lines = tuple(
        LineDecision(
            sequence=line.sequence,
            submitted=line.net,
            eligible=line.net,
            benefit=Money.of(line.net.amount * Decimal(share)),
        )
        for line in request.lines
    )
    insurer = request.amo.organisme.value if payer is PayerKind.AMO else "FAKE-AMC"
    return PayerDecision(
        payer=payer, insurer=insurer, created=now, outcome=Outcome.COMPLETE, disposition="fake", lines=lines
    )


@dataclass
class FakeAmo:
    calls: list[str]

    def adjudicate(self, request: ReimbursementRequest, *, now: datetime) -> AmoAnswer:
        self.calls.append(f"amo {request.submission.value}")
        return AmoAnswer(decision=_decision(request, PayerKind.AMO, "0.5", now))


@dataclass
class FakeAmc:
    calls: list[str]

    def adjudicate(
        self, request: ReimbursementRequest, amo: PayerDecision, *, now: datetime
    ) -> PayerDecision | None:
        self.calls.append(f"amc after {amo.benefit_total.amount}")
        return _decision(request, PayerKind.AMC, "0.25", now)


@dataclass
class FakePayers:
    """``Payers`` that ignore the records they are bound to, as a remote payer would."""

    calls: list[str] = field(default_factory=list)
    bound: list[PayerRecords] = field(default_factory=list)

    def bind(self, records: PayerRecords) -> PayerPair:
        self.bound.append(records)
        return PayerPair(amo=FakeAmo(self.calls), amc=FakeAmc(self.calls))


def _benefits(bundle: dict[str, object]) -> list[str]:
    entries = bundle["entry"]
    assert isinstance(entries, list)
    return [
        str(total["amount"]["value"])
        for entry in entries
        if entry["resource"]["resourceType"] == "ClaimResponse"
        for total in entry["resource"]["total"]
        if total["category"]["coding"][0]["code"] == "benefit"
    ]


@pytest.fixture
def payers() -> FakePayers:
    return FakePayers()


@pytest.fixture
def client(tmp_path: Path, payers: FakePayers) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path, auth="disabled", log_level="ERROR")
    with TestClient(build_app(settings, payers=payers)) as test_client:
        yield test_client


def test_a_fake_payer_answers_through_the_real_service(client: TestClient, payers: FakePayers) -> None:
    """The service stores and replays what the plugged payers decided; they run once."""
    headers = {"Content-Type": "application/fhir+json"}
    first = client.post("/Claim/$submit", content=FIXTURE.read_bytes(), headers=headers)
    again = client.post("/Claim/$submit", content=FIXTURE.read_bytes(), headers=headers)

    assert first.status_code == again.status_code == 200
    assert _benefits(jsonio.loads(first.content)) == ["75.00", "37.50"]  # 150.00 × 0.5, × 0.25
    assert again.content == first.content
    assert payers.calls == ["amo SUB-2026-000101", "amc after 75.00"]
    amo_id = jsonio.loads(first.content)["entry"][0]["resource"]["id"]
    read = client.get(f"/ClaimResponse/{amo_id}")
    assert read.status_code == 200
    assert read.json()["disposition"] == "fake"


def test_a_fake_payer_answers_through_the_real_command_line(payers: FakePayers) -> None:
    """``adapter submit`` on a composition with fake payers prints their decisions."""
    result = CliRunner().invoke(
        cli, ["submit", "--now", NOW.isoformat(), str(FIXTURE)], obj=Composition(payers=payers)
    )

    assert result.exit_code == 0, result.output
    assert _benefits(jsonio.loads(result.stdout)) == ["75.00", "37.50"]
    assert payers.calls == ["amo SUB-2026-000101", "amc after 75.00"]
    assert len(payers.bound) == 1


def test_the_conformance_runner_checks_the_flow_it_is_given(payers: FakePayers) -> None:
    """``adapter conformance --in-process`` runs the kit through the service on the composition:
    the reference payers pass it, fake payers fail its worked examples."""
    fixtures = str(FIXTURE.parent.parent)
    passed = CliRunner().invoke(cli, ["conformance", "--in-process", "--fixtures", fixtures])
    failed = CliRunner().invoke(
        cli, ["conformance", "--in-process", "--fixtures", fixtures], obj=Composition(payers=payers)
    )

    assert passed.exit_code == 0, passed.output
    assert ", 0 failed" in passed.output
    assert failed.exit_code == 1
    assert "FAIL valid/01-purchase-standard.json" in failed.output
    assert payers.calls
