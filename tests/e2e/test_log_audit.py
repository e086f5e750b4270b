"""Log audit: the whole HTTP flow through the real app (the composition root, JWT auth, the SQL
store), with every log line captured, carries no patient data and no credential at INFO or above.

Submits every valid fixture (JSON and XML) and every invalid one, replays, conflicts, reads,
searches (by NIR too), refused tokens, unknown routes, a database outage: then looks in each
line for the fixtures' NIRs, patient names and birth dates, and the bearer tokens used.
"""

from __future__ import annotations

import io
import json
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapter.auth import mint_dev_token
from adapter.bootstrap import build_app
from adapter.settings import Settings
from mappings.fhir import jsonio

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
VALID = sorted(
    p for p in (FIXTURES / "valid").iterdir() if p.suffix in (".json", ".xml") and ".meta." not in p.name
)
INVALID = sorted(p for p in (FIXTURES / "invalid").iterdir() if not p.name.endswith(".expected.json"))
LOUD = {"info", "warning", "error", "critical", "exception"}


def _patient_data() -> set[str]:
    """Every NIR, patient name and birth date in the JSON fixtures."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("resourceType") == "Patient":
                found.update(
                    i["value"] for i in node.get("identifier", []) if isinstance(i.get("value"), str)
                )
                for name in node.get("name", []):
                    found.update(part for part in [name.get("family"), *name.get("given", [])] if part)
                if isinstance(node.get("birthDate"), str):
                    found.add(node["birthDate"])
            if node.get("resourceType") == "Coverage" and isinstance(node.get("subscriberId"), str):
                found.add(node["subscriberId"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in [*VALID, *INVALID]:
        if path.suffix == ".json":
            try:
                walk(json.loads(path.read_bytes()))
            except ValueError:
                continue
    return {value for value in found if len(value) >= 4}


@pytest.fixture
def captured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, io.StringIO, Path]]:
    """The real app on SQLite, logging everything (DEBUG and up) into a buffer."""
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)  # the composition root logs to standard output
    settings = Settings(data_dir=tmp_path / "var", log_level="DEBUG", auth="jwt", clients_file=None)
    app = build_app(settings)
    with TestClient(app) as client:
        yield client, stream, settings.data_dir


def _token(data_dir: Path, client_id: str, scopes: list[str]) -> str:
    return mint_dev_token(
        data_dir,
        client_id=client_id,
        scopes=scopes,
        now=datetime.now(UTC),
        issuer="adapter-dev",
        audience="adapter",
    )


def test_no_patient_data_nor_token_in_any_log_line(
    captured: tuple[TestClient, io.StringIO, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stream, data_dir = captured
    writer = _token(data_dir, "dev-client", ["system/Claim.write", "system/ClaimResponse.read"])
    stranger = _token(data_dir, "unregistered", ["system/Claim.write", "system/ClaimResponse.read"])
    reader_only = _token(data_dir, "dev-client", ["system/ClaimResponse.read"])
    auth = {"Authorization": f"Bearer {writer}"}
    answers: list[dict[str, Any]] = []
    for round_ in ("first", "replay"):
        for path in [*VALID, *INVALID]:
            media = "application/fhir+xml" if path.suffix == ".xml" else "application/fhir+json"
            response = client.post(
                "/Claim/$submit", content=path.read_bytes(), headers={**auth, "Content-Type": media}
            )
            if round_ == "first" and response.status_code == 200 and path.suffix == ".json":
                answers.append(jsonio.loads(response.content))
    assert answers
    first = (FIXTURES / "valid" / "01-purchase-standard.json").read_bytes()
    changed = jsonio.loads(first)
    changed["timestamp"] = "2026-01-01T00:00:00+01:00"
    json_type = {"Content-Type": "application/fhir+json"}
    assert (
        client.post(
            "/Claim/$submit", content=jsonio.dumps(changed), headers={**auth, **json_type}
        ).status_code
        == 409
    )
    for bearer in (stranger, reader_only, "not.a.token", writer + "x"):
        client.post(
            "/Claim/$submit", content=first, headers={"Authorization": f"Bearer {bearer}", **json_type}
        )
    client.post("/Claim/$submit", content=first, headers=json_type)  # no token
    for answer in answers:
        for entry in answer["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] == "ClaimResponse":
                client.get(f"/ClaimResponse/{resource['id']}", headers=auth)
                client.get(
                    f"/ClaimResponse/{resource['id']}", headers={"Authorization": f"Bearer {stranger}"}
                )
                client.get(
                    f"/{resource['request']['reference']}", headers={**auth, "Accept": "application/fhir+xml"}
                )
                nir = resource["patient"]["identifier"]["value"]
                client.get("/ClaimResponse", params={"patient.identifier": nir}, headers=auth)
                client.get(
                    f"/ClaimResponse?patient.identifier=urn:oid:1.2.250.1.213.1.4.8|{nir}&_count=x",
                    headers=auth,
                )
    client.get("/ClaimResponse", params={"_count": "50"}, headers=auth)
    client.get("/Patient/258037511490172", headers=auth)  # unknown route, a NIR in the path
    client.get("/readyz")
    client.get("/metrics")

    # The database goes away: 503s are logged too, and must be as clean.
    store = client.app.state.ctx.service.store  # type: ignore[attr-defined]
    monkeypatch.setattr(store, "_engine", _broken_engine(store))
    monkeypatch.setattr(store, "_writer_engine", store._engine)
    assert client.post("/Claim/$submit", content=first, headers={**auth, **json_type}).status_code == 503
    assert client.get("/ClaimResponse", headers=auth).status_code == 503

    lines = [line for line in stream.getvalue().splitlines() if line.strip()]
    assert len(lines) > 100
    forbidden = _patient_data() | {writer, stranger, reader_only}
    forbidden |= {token.rsplit(".", 1)[-1] for token in (writer, stranger, reader_only)}  # signatures
    assert "258037511490172" in forbidden
    assert "Exemple" in forbidden
    leaks = []
    for line in lines:
        try:
            level = str(json.loads(line).get("level", "")).lower()
        except ValueError:
            level = "info"  # a line that is not JSON is audited as if loud
        if level not in LOUD:
            continue
        leaks.extend((value, line[:300]) for value in forbidden if value in line)
    assert not leaks, leaks[:5]


def _broken_engine(store: Any) -> Any:
    """An engine on a PostgreSQL port where nothing listens (the SQL store's own error path)."""
    from adapter.store.engine import DbTimeouts, create_engine_for

    return create_engine_for("postgresql://postgres:pw@127.0.0.1:9/none", DbTimeouts(connect=2))
