"""The two operations on the real app (SQLite store, JWT, reference payers): JSON and XML,
every refusal a 4xx OperationOutcome naming its element, the audit record the tenant's."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapter.auth import mint_dev_token
from adapter.bootstrap import build_app
from adapter.settings import Settings
from mappings.fhir import jsonio
from mappings.fhir.xml import dump_xml, parse_xml
from tests.support.eligibility import ELIGIBILITY, eligibility_bundle, lone_prescription

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
    from fastapi.testclient import TestClient

JSON = "application/fhir+json"
XML = "application/fhir+xml"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = Settings(data_dir=tmp_path, log_level="ERROR")
    token = mint_dev_token(
        settings.data_dir,
        client_id="dev-client",
        scopes=["system/Claim.write", "system/ClaimResponse.read"],
        now=datetime.now(UTC),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    with TestClient(build_app(settings)) as test_client:
        yield test_client, {"Authorization": f"Bearer {token}"}


def test_json_and_xml_give_one_answer_and_a_repeat_replays(client: tuple[TestClient, dict[str, str]]) -> None:
    http, auth = client
    question = eligibility_bundle(ELIGIBILITY["01-standard-benefits"])
    first = http.post(
        "/CoverageEligibilityRequest/$submit",
        content=jsonio.dumps(question),
        headers={**auth, "content-type": JSON},
    )
    assert first.status_code == 200, first.text
    again = http.post(
        "/CoverageEligibilityRequest/$submit",
        content=dump_xml(question),
        headers={**auth, "content-type": XML, "accept": JSON},
    )
    assert again.status_code == 200
    assert again.content == first.content  # the XML twin is the same question: replayed byte for byte
    as_xml = http.post(
        "/CoverageEligibilityRequest/$submit?_format=xml",
        content=jsonio.dumps(question),
        headers={**auth, "content-type": JSON},
    )
    assert parse_xml(as_xml.content) == jsonio.loads(first.content)
    changed = {**question, "timestamp": "2026-02-17T11:00:00+01:00"}
    conflict = http.post(
        "/CoverageEligibilityRequest/$submit",
        content=jsonio.dumps(changed),
        headers={**auth, "content-type": JSON},
    )
    assert conflict.status_code == 409


def test_refusals_name_their_element(client: tuple[TestClient, dict[str, str]]) -> None:
    http, auth = client
    question = eligibility_bundle(ELIGIBILITY["01-standard-benefits"])
    question["entry"][0]["resource"]["item"][0]["productOrService"]["coding"][0]["code"] = "12"
    refused = http.post(
        "/CoverageEligibilityRequest/$submit",
        content=jsonio.dumps(question),
        headers={**auth, "content-type": JSON},
    )
    assert refused.status_code == 422
    [issue] = refused.json()["issue"]
    assert issue["expression"] == ["Bundle.entry[0].resource.item[0].productOrService.coding[0].code"]
    unreadable = http.post(
        "/CoverageEligibilityRequest/$submit", content=b"{", headers={**auth, "content-type": JSON}
    )
    assert unreadable.status_code == 400


def test_validate_is_200_for_a_readable_prescription_and_400_otherwise(
    client: tuple[TestClient, dict[str, str]],
) -> None:
    http, auth = client
    wrong = lone_prescription("01-purchase-standard")
    wrong["codeCodeableConcept"]["coding"][0]["code"] = "9999999"
    checked = http.post(
        "/DeviceRequest/$validate", content=dump_xml(wrong), headers={**auth, "content-type": XML}
    )
    assert checked.status_code == 200
    outcome = parse_xml(checked.content)
    errors = [i for i in outcome["issue"] if i["severity"] == "error"]
    assert [(i["details"]["coding"][0]["code"], i["expression"]) for i in errors] == [
        ("lpp-code-unknown", ["DeviceRequest.codeCodeableConcept"])
    ]
    claim = http.post(
        "/DeviceRequest/$validate",
        content=jsonio.dumps({"resourceType": "Claim"}),
        headers={**auth, "content-type": JSON},
    )
    assert claim.status_code == 400
