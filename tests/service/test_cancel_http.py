"""``POST /Claim/$cancel`` over HTTP on the in-process payers: the answers, their formats and
the status codes the API documents."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapter.bootstrap import build_app
from adapter.settings import Settings
from mappings.fhir import jsonio
from mappings.fhir.xml import dump_xml
from mappings.systems import Canon

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "valid" / "01-purchase-standard.json"
JSON = {"Content-Type": "application/fhir+json"}
XML = {"Content-Type": "application/fhir+xml"}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", auth="disabled", log_level="ERROR")
    with TestClient(build_app(settings)) as test_client:
        yield test_client


def body(*parameters: dict[str, Any]) -> bytes:
    return jsonio.dumps({"resourceType": "Parameters", "parameter": list(parameters)})


def reason(code: str = "duplicate") -> dict[str, Any]:
    return {"name": "reason", "valueCoding": {"system": Canon().cancel_reason, "code": code}}


def codes(response: Any) -> list[tuple[str, str | None]]:
    return [
        (issue["details"]["coding"][0]["code"], (issue.get("expression") or [None])[0])
        for issue in response.json()["issue"]
    ]


def test_cancel_over_http(client: TestClient) -> None:
    data = FIXTURE.read_bytes()
    submitted = client.post("/Claim/$submit", content=data, headers=JSON).json()
    amo_id = submitted["entry"][0]["resource"]["id"]
    claim = submitted["entry"][0]["resource"]["request"]["reference"]
    by_claim = body({"name": "claim", "valueReference": {"reference": claim}}, reason())

    xml = client.post("/Claim/$cancel", content=dump_xml(jsonio.loads(by_claim)), headers=XML)
    assert xml.status_code == 200
    assert xml.headers["content-type"].startswith("application/fhir+xml")
    assert xml.headers["cache-control"] == "no-store"
    assert b'<status value="cancelled"/>' in xml.content
    as_json = client.post("/Claim/$cancel", content=by_claim, headers=JSON)
    assert as_json.status_code == 200
    assert [e["resource"]["status"] for e in as_json.json()["entry"]] == ["cancelled", "cancelled"]
    assert client.get(f"/Claim/{claim.split('/')[1]}/$answer").content == as_json.content
    found = client.get("/ClaimResponse", params={"state": "cancelled"}).json()
    assert found["total"] == 2
    history = client.get(f"/ClaimResponse/{amo_id}/_history").json()
    assert [e["resource"]["status"] for e in history["entry"]] == ["cancelled", "active"]


def test_cancel_refusals(client: TestClient) -> None:
    unknown = body({"name": "claim", "valueReference": {"reference": "Claim/nope"}}, reason())
    assert client.post("/Claim/$cancel", content=unknown, headers=JSON).status_code == 404
    invalid = client.post("/Claim/$cancel", content=body(reason("changed-mind")), headers=JSON)
    assert invalid.status_code == 422
    assert codes(invalid) == [
        ("cancel-request-invalid", "Parameters.parameter"),
        ("cancel-reason-unknown", "Parameters.parameter[0].valueCoding.code"),
    ]
    unreadable = client.post("/Claim/$cancel", content=b"[1]", headers=JSON)
    assert unreadable.status_code == 400
