"""GET /ClaimResponse/{id}, GET /ClaimResponse?… and GET /Claim/{id}."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from fhir.resources.R4B.bundle import Bundle

from adapter.service import SearchPage
from mappings.fhir.jsonio import loads
from mappings.fhir.xml import parse_xml
from tests.api.conftest import (
    NIR,
    NOW,
    READER,
    WRITER,
    Api,
    answer,
    claim_response,
    outcome_codes,
    submission,
    submission_json,
    versioned,
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


def _claim(resource_id: str = "c1") -> dict[str, object]:
    claim = dict(submission()["entry"][0]["resource"])
    claim["id"] = resource_id
    return claim


def test_read_claim_returns_the_claim_with_its_version_and_validators(api: Api) -> None:
    """GET /Claim/{id} is the Claim resource (not its Bundle), with meta, ETag and Last-Modified."""
    api.service.claim_resources["c1"] = versioned(_claim())

    response = api.client.get("/Claim/c1", headers=AUTH)

    body = response.json()
    assert (response.status_code, response.headers["content-type"]) == (200, FHIR_JSON)
    assert (body["resourceType"], body["id"], body["meta"]["versionId"]) == ("Claim", "c1", "1")
    assert body["meta"]["lastUpdated"] == NOW.isoformat()
    assert (response.headers["etag"], response.headers["last-modified"]) == (
        'W/"1"',
        "Mon, 02 Mar 2026 09:30:00 GMT",
    )
    assert response.headers["cache-control"] == "no-store"


def test_read_claim_in_xml_by_format(api: Api) -> None:
    """_format=xml converts the Claim to FHIR XML; the ETag is the version's, whatever the format."""
    api.service.claim_resources["c1"] = versioned(_claim())

    response = api.client.get("/Claim/c1?_format=application/fhir%2Bxml", headers=AUTH)

    assert (response.headers["content-type"], response.headers["etag"]) == (FHIR_XML, 'W/"1"')
    assert parse_xml(response.content)["resourceType"] == "Claim"


@pytest.mark.parametrize("path", ["/Claim/c1", "/Bundle/c1", "/ClaimResponse/cr-amo-1"])
def test_if_none_match_with_the_current_etag_is_a_bodiless_304(api: Api, path: str) -> None:
    """A client holding the current version gets 304 and no body; another ETag gets the resource."""
    api.service.claim_resources["c1"] = versioned(_claim())
    api.service.bundles["c1"] = versioned({**submission(), "id": "c1"})
    api.service.responses["cr-amo-1"] = versioned(claim_response(), version=2)
    tag = api.client.get(path, headers=AUTH).headers["etag"]

    fresh = api.client.get(path, headers={**AUTH, "If-None-Match": tag})
    stale = api.client.get(path, headers={**AUTH, "If-None-Match": 'W/"0"'})

    assert (fresh.status_code, fresh.content, fresh.headers["etag"]) == (304, b"", tag)
    assert stale.status_code == 200


def test_read_bundle_returns_the_whole_submission(api: Api) -> None:
    """GET /Bundle/{id} is the submitted Bundle under the Claim's id, with its meta and validators."""
    api.service.bundles["c1"] = versioned({**submission(), "id": "c1"})

    response = api.client.get("/Bundle/c1", headers=AUTH)

    body = response.json()
    assert (response.status_code, body["resourceType"], body["id"], response.headers["etag"]) == (
        200,
        "Bundle",
        "c1",
        'W/"1"',
    )
    assert body["entry"] == loads(submission_json())["entry"]
    Bundle.model_validate(body)


@pytest.mark.parametrize("path", ["/Claim/missing", "/Bundle/missing"])
def test_unknown_claim_or_bundle_is_404(api: Api, path: str) -> None:
    """An unknown (or invisible) Claim or Bundle id is a 404 OperationOutcome."""
    response = api.client.get(path, headers=AUTH)

    assert (response.status_code, outcome_codes(response.json())) == (404, ["not-found"])


def test_vread_answers_the_version_asked_for(api: Api) -> None:
    """GET /ClaimResponse/{id}/_history/{vid} gives that version with its ETag; another is a 404."""
    queued = versioned(claim_response(outcome="queued"), version=1).resource
    final = versioned(claim_response(), version=2).resource
    api.service.histories["cr-amo-1"] = [final, queued]

    first = api.client.get("/ClaimResponse/cr-amo-1/_history/1", headers=AUTH)
    missing = api.client.get("/ClaimResponse/cr-amo-1/_history/3", headers=AUTH)

    assert (first.status_code, first.json()["outcome"], first.headers["etag"]) == (200, "queued", 'W/"1"')
    assert (missing.status_code, outcome_codes(missing.json())) == (404, ["not-found"])


def test_search_claims_by_identifier(api: Api) -> None:
    """GET /Claim?identifier=system|value searches Claims; a bare value leaves the system open."""
    api.service.claim_matches = [_claim("c1")]

    bundle = api.client.get("/Claim?identifier=https://x.example/claims|C-1", headers=AUTH).json()
    api.client.get("/Claim?identifier=C-1", headers=AUTH)
    api.client.get("/Claim?identifier=|C-1", headers=AUTH)

    assert (bundle["type"], bundle["total"], bundle["entry"][0]["fullUrl"]) == (
        "searchset",
        1,
        "http://testserver/Claim/c1",
    )
    assert [call[1]["identifier"] for call in api.service.calls] == [
        ("https://x.example/claims", "C-1"),
        (None, "C-1"),
        ("", "C-1"),
    ]


@pytest.mark.parametrize(
    "query", ["identifier=sys|", "identifier=a&identifier=b", "status=active", "_sort=x"]
)
def test_claim_search_refuses_what_it_cannot_read(api: Api, query: str) -> None:
    response = api.client.get(f"/Claim?{query}", headers=AUTH)

    assert (response.status_code, outcome_codes(response.json())) == (400, ["search-parameter"])


FORM = {**AUTH, "Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.parametrize("path", ["/ClaimResponse", "/Claim"])
def test_search_by_post_answers_as_get(api: Api, path: str) -> None:
    """POST [type]/_search with a form body gives the very answer of the GET with that query."""
    api.service.matches = [claim_response(f"cr-{n}") for n in range(5)]
    api.service.claim_matches = [_claim(f"c{n}") for n in range(5)]
    criterion = f"patient.identifier={NIR}" if path == "/ClaimResponse" else "identifier=C-1"

    by_get = api.client.get(f"{path}?{criterion}&_count=2", headers=AUTH)
    by_post = api.client.post(f"{path}/_search", content=f"{criterion}&_count=2", headers=FORM)

    assert (by_post.status_code, by_post.content) == (200, by_get.content)
    assert api.service.calls[-1] == api.service.calls[-2]


def test_search_by_post_takes_the_urls_parameters_too(api: Api) -> None:
    """The URL's parameters join the form's (here _format)."""
    response = api.client.post("/ClaimResponse/_search?_format=xml", content="outcome=complete", headers=FORM)

    assert response.headers["content-type"] == FHIR_XML
    assert api.service.calls[-1][1]["outcome"] == "complete"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/fhir+json",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded; charset=latin-1",
        None,
    ],
)
def test_search_by_post_needs_a_form(api: Api, content_type: str | None) -> None:
    """Any other body than a UTF-8 form is a 415 OperationOutcome."""
    headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}

    response = api.client.post("/ClaimResponse/_search", content=b"outcome=complete", headers=headers)

    assert (response.status_code, outcome_codes(response.json())) == (415, ["media-type-unsupported"])
    assert api.service.calls == []


def test_search_by_post_is_bounded(api: Api) -> None:
    """A form body larger than a search needs is a 413."""
    response = api.client.post("/ClaimResponse/_search", content=b"request=" + b"x" * 20_000, headers=FORM)

    assert (response.status_code, outcome_codes(response.json())) == (413, ["input-too-large"])


def test_bad_form_values_are_a_400_naming_the_parameter(api: Api) -> None:
    response = api.client.post(
        "/ClaimResponse/_search", content="patient.identifier=123&_count=x", headers=FORM
    )

    body = response.json()
    assert (response.status_code, outcome_codes(body)) == (400, ["search-parameter", "search-parameter"])
    assert [issue["expression"] for issue in body["issue"]] == [["patient.identifier"], ["_count"]]


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
        "_sort=outcome",
        "patient.identifier=12345",
        "insurer=abc|9?",
        "created=2026-13",
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


PARIS_DAY = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("query", "window"),
    [
        ("created=2026", (datetime(2026, 1, 1, tzinfo=PARIS_DAY), datetime(2027, 1, 1, tzinfo=PARIS_DAY))),
        (
            "created=2026-12",
            (datetime(2026, 12, 1, tzinfo=PARIS_DAY), datetime(2027, 1, 1, tzinfo=PARIS_DAY)),
        ),
        ("created=gt2026-03-01", (datetime(2026, 3, 2, tzinfo=PARIS_DAY), None)),
        ("created=ge2026-03-01T10:00Z", (datetime(2026, 3, 1, 10, 0, tzinfo=UTC), None)),
        ("created=gt2026-03-01T10:00Z", (datetime(2026, 3, 1, 10, 1, tzinfo=UTC), None)),
        ("created=le2026-03-01T10:00:30", (None, datetime(2026, 3, 1, 10, 0, 31, tzinfo=PARIS_DAY))),
        (
            "created=lt2026-03-01T10:00:30.5%2B02:00",
            (None, datetime(2026, 3, 1, 10, 0, 30, 500_000, tzinfo=timezone(timedelta(hours=2)))),
        ),
        (
            "created=2026-03-01T10:00:30.5-01:00",
            (
                datetime(2026, 3, 1, 10, 0, 30, 500_000, tzinfo=timezone(timedelta(hours=-1))),
                datetime(2026, 3, 1, 10, 0, 30, 600_000, tzinfo=timezone(timedelta(hours=-1))),
            ),
        ),
        (
            "created=ge2026-03-01&created=lt2026-03-01T12:00Z",
            (datetime(2026, 3, 1, tzinfo=PARIS_DAY), datetime(2026, 3, 1, 12, tzinfo=UTC)),
        ),
    ],
)
def test_created_takes_every_date_precision(
    api: Api, query: str, window: tuple[datetime | None, ...]
) -> None:
    """A date value is a range at its precision (year … fraction of a second); the prefix picks a side."""
    response = api.client.get(f"/ClaimResponse?{query}", headers=AUTH)

    call = api.service.calls[-1][1]
    assert response.status_code == 200
    assert (call.get("created_from"), call.get("created_before")) == window


@pytest.mark.parametrize("sort", ["created", "-created", "_lastUpdated", "-_lastUpdated"])
def test_sort_is_passed_on_and_kept_in_the_links(api: Api, sort: str) -> None:
    api.service.matches = [claim_response(f"cr-{n}") for n in range(3)]

    bundle = api.client.get(f"/ClaimResponse?_sort={sort}&_count=1", headers=AUTH).json()

    assert api.service.calls[-1][1].get("sort") == (None if sort == "-created" else sort)
    assert _links(bundle)["next"]["_sort"] == [sort]
