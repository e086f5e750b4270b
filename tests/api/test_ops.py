"""Conformance and operations endpoints, framework errors and the request envelope."""

from __future__ import annotations

from collections.abc import Callable

from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from adapter import __version__
from adapter.api.capability import SEARCH_PARAMETERS
from adapter.api.routes_claimresponse import parse_search
from mappings.fhir.xml import parse_xml
from tests.api.conftest import NIR, READER, Api, outcome_codes

FHIR_JSON = "application/fhir+json; charset=utf-8; fhirVersion=4.0"
SP = "http://hl7.org/fhir/SearchParameter"


def test_metadata_is_a_valid_r4_capability_statement_without_auth(api: Api) -> None:
    """GET /metadata needs no token and validates as an R4(B) CapabilityStatement."""
    response = api.client.get("/metadata")

    statement = CapabilityStatement.model_validate(response.json())
    assert (response.status_code, response.headers["content-type"]) == (200, FHIR_JSON)
    assert (statement.status, statement.kind, statement.fhirVersion) == ("active", "instance", "4.0.1")
    assert statement.format == ["json", "xml"]
    assert statement.software is not None
    assert statement.implementation is not None
    assert (statement.software.name, statement.software.version) == ("fhir-lpp-adapter", __version__)
    assert statement.implementation.url == "https://adapter.example/fhir"
    assert api.auth.seen == []


def test_metadata_declares_smart_security_and_what_the_routes_serve(api: Api) -> None:
    """rest[0] is a server with SMART-on-FHIR security, Claim read + $submit + $inquire, ClaimResponse
    read + history + search, ChargeItemDefinition read + search, CodeSystem $lookup."""
    rest = api.client.get("/metadata").json()["rest"][0]

    resources = {resource["type"]: resource for resource in rest["resource"]}
    assert rest["mode"] == "server"
    assert rest["security"]["service"][0]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
        "code": "SMART-on-FHIR",
    }
    assert "Bearer" in rest["security"]["description"]
    operations = resources["Claim"]["operation"]
    assert operations[:2] == [
        {"name": "submit", "definition": "http://hl7.org/fhir/OperationDefinition/Claim-submit"},
        {
            "name": "inquire",
            "definition": "http://hl7.org/fhir/us/davinci-pas/OperationDefinition/Claim-inquiry",
        },
    ]
    assert [operation["name"] for operation in operations[2:]] == ["answer", "requeue", "cancel"]
    assert [i["code"] for i in resources["ClaimResponse"]["interaction"]] == [
        "read",
        "vread",
        "history-instance",
        "search-type",
    ]
    assert [
        (p["name"], p["type"], p.get("definition")) for p in resources["ClaimResponse"]["searchParam"]
    ] == [
        ("request", "reference", f"{SP}/ClaimResponse-request"),
        ("patient", "reference", f"{SP}/ClaimResponse-patient"),
        ("insurer", "reference", f"{SP}/ClaimResponse-insurer"),
        ("created", "date", f"{SP}/ClaimResponse-created"),
        ("outcome", "token", f"{SP}/ClaimResponse-outcome"),
        ("state", "token", None),
    ]
    assert [i["code"] for i in resources["Claim"]["interaction"]] == ["read", "search-type"]
    assert [(p["name"], p["type"], p["definition"]) for p in resources["Claim"]["searchParam"]] == [
        ("identifier", "token", f"{SP}/Claim-identifier")
    ]
    assert [i["code"] for i in resources["Bundle"]["interaction"]] == ["read"]
    for resource in ("Claim", "ClaimResponse"):  # result parameters are not search parameters
        assert {"_count", "_offset", "_sort"}.isdisjoint(
            p["name"] for p in resources[resource]["searchParam"]
        )
        assert "_count" in resources[resource]["documentation"]
    assert [i["code"] for i in resources["ChargeItemDefinition"]["interaction"]] == ["read", "search-type"]
    assert [p["name"] for p in resources["ChargeItemDefinition"]["searchParam"]] == ["code", "date"]
    assert resources["CodeSystem"]["operation"][0]["name"] == "lookup"
    assert resources["CodeSystem"]["operation"][0]["definition"] == (
        "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"
    )
    assert [o["name"] for o in resources["CoverageEligibilityRequest"]["operation"]] == ["submit"]
    assert resources["DeviceRequest"]["operation"][0]["name"] == "validate"
    assert resources["DeviceRequest"]["operation"][0]["definition"] == (
        "http://hl7.org/fhir/OperationDefinition/Resource-validate"
    )


def test_declared_search_parameters_are_exactly_the_accepted_ones() -> None:
    """Every parameter the CapabilityStatement lists is accepted by the search route."""
    from starlette.datastructures import QueryParams

    # A reference parameter is searched by its target's identifier: chained, or with :identifier.
    values = {
        "created": "ge2026-03-01",
        "outcome": "complete",
        "state": "dead",
        "patient.identifier": NIR,
        "insurer:identifier": "011751234",
    }
    names = {"patient": "patient.identifier", "insurer": "insurer:identifier"}
    query = QueryParams(
        "&".join(
            f"{names.get(name, name)}={values.get(names.get(name, name), '1')}"
            for name, *_ in SEARCH_PARAMETERS
        )
    )

    parsed = parse_search(query)

    assert parsed.criteria == {
        "request": "1",
        "patient.identifier": NIR,
        "insurer": "011751234",
        "outcome": "complete",
        "state": "dead",
    }
    assert parsed.dates == {"created": ("ge2026-03-01",)}


def test_metadata_in_xml_with_an_etag(api: Api) -> None:
    """_format=xml gives the statement in XML; a matching If-None-Match gets 304."""
    response = api.client.get("/metadata?_format=xml")
    again = api.client.get("/metadata?_format=xml", headers={"If-None-Match": response.headers["etag"]})

    assert parse_xml(response.content)["fhirVersion"] == "4.0.1"
    assert again.status_code == 304


def test_metadata_date_comes_from_the_injected_clock(api: Api) -> None:
    """The statement's date is the app's clock at creation, not the wall clock."""

    assert api.client.get("/metadata").json()["date"] == "2026-03-02T10:30:00+01:00"


def test_healthz_is_200(api: Api) -> None:
    """/healthz answers 200 while the process runs, without a token."""
    response = api.client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["issue"][0]["severity"] == "information"


def test_readyz_follows_the_service(api: Api) -> None:
    """/readyz is 200 when service.ready() is true and a 503 OperationOutcome otherwise."""
    ready = api.client.get("/readyz")
    api.service.is_ready = False
    not_ready = api.client.get("/readyz")

    assert ready.status_code == 200
    assert not_ready.status_code == 503
    OperationOutcome.model_validate(not_ready.json())


def test_unknown_route_is_a_404_operation_outcome(api: Api) -> None:
    """A path no route serves is a FHIR 404, not Starlette's plain JSON."""
    response = api.client.get("/Patient/123", headers={"Authorization": READER})

    assert (response.status_code, response.headers["content-type"]) == (404, FHIR_JSON)
    assert outcome_codes(response.json()) == ["not-found"]


def test_wrong_method_is_405_with_allow(api: Api) -> None:
    """DELETE on a read route is a 405 OperationOutcome with an Allow header."""
    response = api.client.delete("/ClaimResponse/cr-1")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert outcome_codes(response.json()) == ["method-not-allowed"]


def test_put_on_submit_is_405_listing_post(api: Api) -> None:
    """PUT on $submit is a 405 listing POST."""
    response = api.client.put("/Claim/$submit")

    assert (response.status_code, response.headers["allow"]) == (405, "POST")


def test_errors_answer_in_xml_when_asked(api: Api) -> None:
    """A 404 for an XML client is an XML OperationOutcome."""
    response = api.client.get("/nowhere?_format=xml")

    assert response.headers["content-type"].startswith("application/fhir+xml")
    assert outcome_codes(parse_xml(response.content)) == ["not-found"]


def test_request_id_is_echoed_or_generated(api: Api) -> None:
    """A sane X-Request-ID is echoed; a missing or unsafe one is replaced by a generated id."""
    echoed = api.client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    generated = api.client.get("/healthz")
    unsafe = api.client.get("/healthz", headers={"X-Request-ID": "x" * 200})

    assert echoed.headers["x-request-id"] == "trace-42"
    assert generated.headers["x-request-id"].startswith("req-")
    assert unsafe.headers["x-request-id"].startswith("req-")


def test_metrics_count_requests_by_route_template_and_status(api: Api) -> None:
    """/metrics exposes request counts labelled by route template, never the raw path."""
    api.client.get("/ClaimResponse/a", headers={"Authorization": READER})
    api.client.get("/ClaimResponse/b", headers={"Authorization": READER})

    metrics = api.client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    assert (
        'adapter_http_requests_total{method="GET",route="/ClaimResponse/{resource_id}",status="404"} 2.0'
        in metrics.text
    )
    assert "/ClaimResponse/a" not in metrics.text


def test_each_app_has_its_own_registry(make_api: Callable[..., Api]) -> None:
    """Two apps do not share counters."""
    first, second = make_api(), make_api()
    first.client.get("/healthz")

    assert 'route="/healthz",status="200"} 1.0' in first.client.get("/metrics").text
    assert 'route="/healthz"' not in second.client.get("/metrics").text


def test_openapi_describes_fhir_media_types(api: Api) -> None:
    """/openapi.json documents FHIR JSON and XML bodies and OperationOutcome errors on $submit."""
    spec = api.client.get("/openapi.json").json()

    submit = spec["paths"]["/Claim/$submit"]["post"]
    assert set(submit["requestBody"]["content"]) == {"application/fhir+json", "application/fhir+xml"}
    assert set(submit["responses"]["200"]["content"]) == {"application/fhir+json", "application/fhir+xml"}
    assert submit["responses"]["415"]["content"]["application/fhir+json"]["schema"] == {
        "$ref": "#/components/schemas/OperationOutcome"
    }
    assert "application/json" not in str(submit)
    assert "422" in submit["responses"]
    assert "HTTPValidationError" not in str(spec)
    assert submit["security"] == [{"bearer": ["system/Claim.write"]}]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_docs_page_is_served(api: Api) -> None:
    """/docs serves the interactive documentation."""
    response = api.client.get("/docs")

    assert response.status_code == 200
    assert "/openapi.json" in response.text
    assert api.access_lines()[-1]["route"] == "/docs"


def test_framework_validation_errors_are_400_operation_outcomes(make_api: Callable[..., Api]) -> None:
    """FastAPI's RequestValidationError leaves as a 400 OperationOutcome, not plain JSON."""
    api = make_api()

    @api.app.get("/probe")
    async def probe(n: int) -> dict[str, int]:
        return {"n": n}

    response = api.client.get("/probe?n=ten")

    assert (response.status_code, response.headers["content-type"]) == (400, FHIR_JSON)
    assert outcome_codes(response.json()) == ["search-parameter"]
    assert "query.n" in response.json()["issue"][0]["details"]["text"]
