"""``CoverageEligibilityRequest/$submit`` and ``DeviceRequest/$validate`` against a fake service:
scopes, content negotiation, what reaches the service, and the refusals' shape."""

from __future__ import annotations

from adapter.errors import ConventionError, Issue
from adapter.intake import Format
from mappings.fhir.xml import parse_xml
from tests.api.conftest import NOW, READER, WRITER, Api, outcome_codes

JSON = "application/fhir+json"
XML = "application/fhir+xml"


def test_eligibility_needs_the_submit_scope_and_passes_the_bytes(api: Api) -> None:
    refused = api.client.post(
        "/CoverageEligibilityRequest/$submit",
        content=b"{}",
        headers={"Authorization": READER, "content-type": JSON},
    )
    assert refused.status_code == 403
    answered = api.client.post(
        "/CoverageEligibilityRequest/$submit",
        content=b"<Bundle/>",
        headers={"Authorization": WRITER, "content-type": XML, "accept": JSON},
    )
    assert answered.status_code == 200
    assert answered.headers["cache-control"] == "no-store"
    [(_, call)] = [c for c in api.service.calls if c[0] == "eligibility"]
    assert (call["data"], call["fmt"], call["now"]) == (b"<Bundle/>", Format.XML, NOW)
    assert answered.json()["resourceType"] == "Bundle"
    assert [line["outcome"] for line in api.access_lines()][-1] == "eligibility-open"


def test_eligibility_refusals_are_operation_outcomes(api: Api) -> None:
    api.service.error = ConventionError(
        [Issue("eligibility-serviced", "required", "Bundle.entry[0].resource")]
    )
    response = api.client.post(
        "/CoverageEligibilityRequest/$submit",
        content=b"{}",
        headers={"Authorization": WRITER, "content-type": JSON},
    )
    assert response.status_code == 422
    assert outcome_codes(response.json()) == ["eligibility-serviced"]


def test_validate_answers_200_in_the_format_asked(api: Api) -> None:
    response = api.client.post(
        "/DeviceRequest/$validate",
        content=b"{}",
        headers={"Authorization": WRITER, "content-type": JSON, "accept": XML},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(XML)
    assert parse_xml(response.content)["resourceType"] == "OperationOutcome"
    [(_, call)] = [c for c in api.service.calls if c[0] == "validate_prescription"]
    assert call["today"] == NOW.date()
    assert [line["outcome"] for line in api.access_lines()][-1] == "prescription-valid"
