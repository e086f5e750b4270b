"""GET /ClaimResponse/{id}, GET /ClaimResponse?… and GET /Claim/{id}."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from fhir.resources.R4B.bundle import Bundle

from adapter.service import SearchPage, StoredClaim
from mappings.fhir.jsonio import loads
from mappings.fhir.xml import parse_xml
from tests.api.conftest import (
    NIR,
    READER,
    WRITER,
    Api,
    answer,
    claim_response,
    outcome_codes,
    submission,
    submission_json,
    submission_xml,
)

FHIR_JSON = "application/fhir+json; charset=utf-8; fhirVersion=4.0"
FHIR_XML = "application/fhir+xml; charset=utf-8; fhirVersion=4.0"
AUTH = {"Authorization": READER}


def test_read_claim_response_returns_its_stored_json(api: Api) -> None:
    """A known ClaimResponse id answers 200 with the stored bytes."""
    api.service.responses["cr-amo-1"] = answer(claim_response())

    response = api.client.get("/ClaimResponse/cr-amo-1", headers=AUTH)

    assert (response.status_code, response.headers["content-type"]) == (200, FHIR_JSON)
    assert response.content == api.service.responses["cr-amo-1"].json


def test_read_claim_response_in_xml_by_format(api: Api) -> None:
    """_format=xml answers the ClaimResponse as FHIR XML."""
    api.service.responses["cr-amo-1"] = answer(claim_response())

    response = api.client.get("/ClaimResponse/cr-amo-1?_format=xml", headers=AUTH)

    assert response.headers["content-type"] == FHIR_XML
    assert parse_xml(response.content)["id"] == "cr-amo-1"


def test_unknown_claim_response_is_404(api: Api) -> None:
    """An id the service does not return (unknown or not visible) is a 404 not-found."""
    response = api.client.get("/ClaimResponse/nope", headers=AUTH)

    assert (response.status_code, outcome_codes(response.json())) == (404, ["not-found"])


def test_reads_need_the_read_scope(api: Api) -> None:
    """Reads authenticate for system/ClaimResponse.read; no token is a 401."""
    response = api.client.get("/ClaimResponse/cr-amo-1")

    assert response.status_code == 401
    assert "www-authenticate" in response.headers
    assert api.auth.seen[-1][1] == "system/ClaimResponse.read"


def test_stored_xml_claim_comes_back_byte_for_byte(api: Api) -> None:
    """GET /Claim/{id} returns the submission as received, in its original media type."""
    raw = submission_xml()
    api.service.claims["c1"] = StoredClaim(raw=raw, media_type="application/fhir+xml")

    response = api.client.get("/Claim/c1", headers=AUTH)

    assert (response.status_code, response.headers["content-type"], response.content) == (200, FHIR_XML, raw)


def test_stored_xml_claim_converted_to_json_on_request(api: Api) -> None:
    """Accept: application/fhir+json converts a stored XML submission to the same JSON."""
    api.service.claims["c1"] = StoredClaim(raw=submission_xml(), media_type="application/fhir+xml")

    response = api.client.get("/Claim/c1", headers={**AUTH, "Accept": "application/fhir+json"})

    assert response.headers["content-type"] == FHIR_JSON
    assert loads(response.content) == loads(submission_json())


def test_stored_json_claim_converted_to_xml_by_format(api: Api) -> None:
    """_format=xml converts a stored JSON submission to FHIR XML."""
    api.service.claims["c1"] = StoredClaim(raw=submission_json(), media_type="application/fhir+json")

    response = api.client.get("/Claim/c1?_format=application/fhir%2Bxml", headers=AUTH)

    assert response.headers["content-type"] == FHIR_XML
    assert parse_xml(response.content) == submission()


def test_unknown_claim_is_404(api: Api) -> None:
    """An unknown Claim id is a 404 OperationOutcome."""
    response = api.client.get("/Claim/missing", headers=AUTH)

    assert (response.status_code, outcome_codes(response.json())) == (404, ["not-found"])


def _links(bundle: dict[str, object]) -> dict[str, dict[str, list[str]]]:
    links = bundle["link"]
    assert isinstance(links, list)
    return {link["relation"]: parse_qs(urlsplit(link["url"]).query) for link in links}


def test_search_pages_with_total_and_links(api: Api) -> None:
    """A middle page carries total, self, previous and next links with the same criteria."""
    api.service.matches = [claim_response(f"cr-{n}") for n in range(25)]
    identifier = f"urn:oid:1.2.250.1.213.1.4.8|{NIR}"

    response = api.client.get(
        "/ClaimResponse",
        params={"patient.identifier": identifier, "_count": "10", "_offset": "10"},
        headers=AUTH,
    )

    bundle = response.json()
    links = _links(bundle)
    assert (response.status_code, bundle["type"], bundle["total"]) == (200, "searchset", 25)
    assert [entry["resource"]["id"] for entry in bundle["entry"]] == [f"cr-{n}" for n in range(10, 20)]
    assert links["self"] == {"patient.identifier": [identifier], "_count": ["10"], "_offset": ["10"]}
    assert links["previous"]["_offset"] == ["0"]
    assert links["next"]["_offset"] == ["20"]
    assert api.service.calls[-1] == (
        "search",
        {"request": None, "patient_identifier": identifier, "insurer": None, "offset": 10, "count": 10},
    )
    Bundle.model_validate(bundle)


def test_search_links_follow_the_services_opaque_offsets(api: Api) -> None:
    """next/previous carry the offsets the service chose, not offset ± _count."""
    api.service.page = SearchPage(
        resources=[claim_response("cr-a"), claim_response("cr-b")], total=9, next_offset=7, previous_offset=1
    )

    links = _links(api.client.get("/ClaimResponse?_count=3&_offset=4", headers=AUTH).json())

    assert (links["self"]["_offset"], links["next"]["_offset"], links["previous"]["_offset"]) == (
        ["4"],
        ["7"],
        ["1"],
    )


def test_search_first_and_last_pages_have_one_neighbour(api: Api) -> None:
    """The first page has no previous link, the last no next link."""
    api.service.matches = [claim_response(f"cr-{n}") for n in range(25)]

    first = api.client.get("/ClaimResponse?insurer=011751234&_count=20", headers=AUTH).json()
    last = api.client.get("/ClaimResponse?insurer=011751234&_count=20&_offset=20", headers=AUTH).json()

    assert (set(_links(first)), set(_links(last))) == ({"self", "next"}, {"self", "previous"})
    assert first["entry"][0]["fullUrl"] == "http://testserver/ClaimResponse/cr-0"
    assert first["entry"][0]["search"] == {"mode": "match"}


def test_search_defaults_to_20_and_caps_count_at_100(api: Api) -> None:
    """No _count means 20; a larger _count is capped at 100."""
    api.client.get("/ClaimResponse?request=Claim/c1", headers=AUTH)
    api.client.get("/ClaimResponse?request=Claim/c1&_count=500", headers=AUTH)

    assert [call[1]["count"] for call in api.service.calls] == [20, 100]


def test_search_count_zero_returns_the_total_only(api: Api) -> None:
    """_count=0 answers the total with no entries and no paging links."""
    api.service.matches = [claim_response(f"cr-{n}") for n in range(3)]

    bundle = api.client.get("/ClaimResponse?_count=0", headers=AUTH).json()

    assert (bundle["total"], "entry" in bundle, set(_links(bundle))) == (3, False, {"self"})


@pytest.mark.parametrize(
    "query",
    [
        "patient=Patient/1",
        "request:missing=true",
        "_sort=created",
        "_count=ten",
        "_offset=-1",
        "request=a&request=b",
    ],
)
def test_search_refuses_what_it_does_not_implement(api: Api, query: str) -> None:
    """Unknown parameters, modifiers, bad numbers and repeated parameters are a 400 search-parameter."""
    response = api.client.get(f"/ClaimResponse?{query}", headers=AUTH)

    assert (response.status_code, outcome_codes(response.json())) == (400, ["search-parameter"])
    assert [name for name, _ in api.service.calls] == []


def test_search_reports_every_bad_parameter_at_once(api: Api) -> None:
    """Two problems give one 400 with two issues."""
    response = api.client.get("/ClaimResponse?foo=1&_count=x", headers=AUTH)

    assert outcome_codes(response.json()) == ["search-parameter", "search-parameter"]


def test_search_in_xml(api: Api) -> None:
    """Accept: application/fhir+xml gives the searchset in XML."""
    api.service.matches = [claim_response()]

    response = api.client.get("/ClaimResponse", headers={**AUTH, "Accept": "application/fhir+xml"})

    assert response.headers["content-type"] == FHIR_XML
    assert parse_xml(response.content)["total"] == 1


def test_writer_token_may_read_too(api: Api) -> None:
    """A token with both scopes reads."""
    api.service.responses["cr-amo-1"] = answer(claim_response())

    assert api.client.get("/ClaimResponse/cr-amo-1", headers={"Authorization": WRITER}).status_code == 200
