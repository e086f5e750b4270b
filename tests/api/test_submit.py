"""POST /Claim/$submit: formats in and out, and every error as an OperationOutcome."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal

import httpx
import pytest

from adapter.errors import ConflictError, ConventionError, Issue, ParseError, UsageError
from adapter.intake import Format
from adapter.service import Answer
from mappings.fhir.jsonio import loads
from mappings.fhir.xml import parse_xml
from tests.api.conftest import (
    NOW,
    WRITER,
    Api,
    FakeAuthError,
    answer,
    outcome_codes,
    response_bundle,
    submission_json,
    submission_xml,
)

FHIR_JSON = "application/fhir+json; charset=utf-8; fhirVersion=4.0"
FHIR_XML = "application/fhir+xml; charset=utf-8; fhirVersion=4.0"
SUBMIT = "/Claim/$submit"


def post(
    api: Api, body: bytes, content_type: str = "application/fhir+json", **headers: str
) -> httpx.Response:
    response: httpx.Response = api.client.post(
        SUBMIT, content=body, headers={"Content-Type": content_type, "Authorization": WRITER, **headers}
    )
    return response


def test_json_in_json_out_returns_the_service_bundle_bytes(api: Api) -> None:
    """A JSON submission gets 200, the FHIR JSON content type and the service's exact bytes."""
    response = api.client.post(
        SUBMIT,
        content=submission_json(),
        headers={"Content-Type": "application/fhir+json", "Authorization": WRITER},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    assert response.content == api.service.answer.json
    assert b'"value":60.00' in response.content


def test_the_service_gets_the_raw_bytes_format_caller_and_clock(api: Api) -> None:
    """The body reaches the service unchanged, with its format, the caller and the injected now."""
    body = submission_xml()
    api.client.post(SUBMIT, content=body, headers={"Content-Type": "text/xml", "Authorization": WRITER})

    ((name, call),) = api.service.calls
    assert (name, call["data"], call["fmt"], call["caller"].client_id, call["now"]) == (
        "submit",
        body,
        Format.XML,
        "writer",
        NOW,
    )


def test_the_service_gets_the_request_id_for_its_audit_record(api: Api) -> None:
    """The X-Request-ID the client sent is passed to the service (it lands in the audit record)."""
    post(api, submission_json(), **{"X-Request-ID": "req-0001"})

    ((_, call),) = api.service.calls
    assert call["request_id"] == "req-0001"


def test_xml_in_answers_xml_by_default(api: Api) -> None:
    """With no Accept and no _format the answer takes the submission's format."""
    response = api.client.post(
        SUBMIT,
        content=submission_xml(),
        headers={"Content-Type": "application/fhir+xml", "Authorization": WRITER, "Accept": ""},
    )

    assert response.headers["content-type"] == FHIR_XML
    assert parse_xml(response.content)["entry"][0]["resource"]["outcome"] == "complete"


def test_xml_in_json_out_by_accept(api: Api) -> None:
    """XML in, Accept: application/fhir+json out."""
    response = api.client.post(
        SUBMIT,
        content=submission_xml(),
        headers={
            "Content-Type": "application/fhir+xml",
            "Accept": "application/fhir+json",
            "Authorization": WRITER,
        },
    )

    assert response.headers["content-type"] == FHIR_JSON
    assert response.content == api.service.answer.json


def test_json_in_xml_out_keeps_decimal_digits(api: Api) -> None:
    """JSON in, Accept XML: the Bundle comes back as FHIR XML with 60.00 intact."""
    response = api.client.post(
        SUBMIT,
        content=submission_json(),
        headers={
            "Content-Type": "application/fhir+json",
            "Accept": "application/fhir+xml",
            "Authorization": WRITER,
        },
    )

    assert response.headers["content-type"] == FHIR_XML
    assert b'<value value="60.00"/>' in response.content
    amount = parse_xml(response.content)["entry"][0]["resource"]["item"][0]["adjudication"][0]["amount"]
    assert amount["value"] == Decimal("60.00")


def test_format_parameter_overrides_accept(api: Api) -> None:
    """_format=xml wins over Accept: application/fhir+json."""
    response = api.client.post(
        f"{SUBMIT}?_format=xml",
        content=submission_json(),
        headers={
            "Content-Type": "application/fhir+json",
            "Accept": "application/fhir+json",
            "Authorization": WRITER,
        },
    )

    assert response.headers["content-type"] == FHIR_XML


def test_text_plain_is_415(api: Api) -> None:
    """Content-Type: text/plain is refused with 415 media-type-unsupported, before the service runs."""
    response = api.client.post(
        SUBMIT, content=submission_json(), headers={"Content-Type": "text/plain", "Authorization": WRITER}
    )

    assert response.status_code == 415
    assert response.headers["content-type"] == FHIR_JSON
    assert outcome_codes(response.json()) == ["media-type-unsupported"]
    assert api.service.calls == []


def test_fhir_version_3_content_type_is_415_fhir_version(api: Api) -> None:
    """A body declared as fhirVersion=3.0 is refused with 415 coded fhir-version."""
    response = api.client.post(
        SUBMIT,
        content=submission_json(),
        headers={"Content-Type": "application/fhir+json; fhirVersion=3.0", "Authorization": WRITER},
    )

    assert (response.status_code, outcome_codes(response.json())) == (415, ["fhir-version"])


def test_accept_text_html_is_406(api: Api) -> None:
    """Accept: text/html cannot be produced: 406 not-acceptable, OperationOutcome in JSON."""
    response = api.client.post(
        SUBMIT,
        content=submission_json(),
        headers={"Content-Type": "application/fhir+json", "Accept": "text/html", "Authorization": WRITER},
    )

    assert response.status_code == 406
    assert response.headers["content-type"] == FHIR_JSON
    assert outcome_codes(response.json()) == ["not-acceptable"]


def test_accept_fhir_version_3_is_406_fhir_version(api: Api) -> None:
    """Accept naming fhirVersion=3.0 only is refused with 406 coded fhir-version."""
    response = api.client.post(
        SUBMIT,
        content=submission_json(),
        headers={
            "Content-Type": "application/fhir+json",
            "Accept": "application/fhir+json; fhirVersion=3.0",
            "Authorization": WRITER,
        },
    )

    assert (response.status_code, outcome_codes(response.json())) == (406, ["fhir-version"])


def test_parse_error_is_400_with_the_services_issues(api: Api) -> None:
    """A ParseError from the service becomes 400 with its issues and FHIRPath expressions."""
    api.service.error = ParseError([Issue("invalid-json", "line 1: not JSON", "Bundle")])

    response = api.client.post(
        SUBMIT, content=b"{oops", headers={"Content-Type": "application/fhir+json", "Authorization": WRITER}
    )

    body = response.json()
    assert response.status_code == 400
    assert outcome_codes(body) == ["invalid-json"]
    assert body["issue"][0]["expression"] == ["Bundle"]
    assert body["issue"][0]["code"] == "structure"


def test_convention_error_is_422_with_every_issue_in_the_clients_format(api: Api) -> None:
    """A ConventionError becomes 422 listing every issue, in XML when the client submitted XML."""
    api.service.error = ConventionError(
        [
            Issue("nir-key", "the NIR key does not match", "Bundle.entry[1].resource.identifier[0].value"),
            Issue(
                "total-mismatch",
                "Claim.total must equal the sum of item.net",
                "Bundle.entry[0].resource.total",
            ),
        ]
    )

    response = api.client.post(
        SUBMIT,
        content=submission_xml(),
        headers={"Content-Type": "application/fhir+xml", "Authorization": WRITER},
    )

    body = parse_xml(response.content)
    assert (response.status_code, response.headers["content-type"]) == (422, FHIR_XML)
    assert outcome_codes(body) == ["nir-key", "total-mismatch"]


def test_conflict_is_409(api: Api) -> None:
    """A reused Bundle.identifier with other content is a 409 idempotency-conflict."""
    api.service.error = ConflictError("SUB-2026-000101 was submitted with other content")

    response = api.client.post(
        SUBMIT,
        content=submission_json(),
        headers={"Content-Type": "application/fhir+json", "Authorization": WRITER},
    )

    assert (response.status_code, outcome_codes(response.json())) == (409, ["idempotency-conflict"])


def test_service_refusal_for_another_organisation_is_403(api: Api) -> None:
    """An authorisation refusal raised by the service keeps its 403 status."""
    api.service.error = FakeAuthError("organisation-forbidden", 403)

    response = api.client.post(
        SUBMIT,
        content=submission_json(),
        headers={"Content-Type": "application/fhir+json", "Authorization": WRITER},
    )

    assert (response.status_code, outcome_codes(response.json())) == (403, ["organisation-forbidden"])


def test_missing_token_is_401_with_www_authenticate(api: Api) -> None:
    """No Authorization header: 401, a Bearer challenge, and the service is never called."""
    response = api.client.post(
        SUBMIT, content=submission_json(), headers={"Content-Type": "application/fhir+json"}
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="adapter"'
    assert outcome_codes(response.json()) == ["auth-missing"]
    assert api.service.calls == []


def test_invalid_token_is_401_with_the_authenticators_challenge(api: Api) -> None:
    """A bad token's challenge from the authenticator is sent as it is."""
    response = api.client.post(
        SUBMIT,
        content=submission_json(),
        headers={"Content-Type": "application/fhir+json", "Authorization": "Bearer x"},
    )

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="adapter", error="invalid_token"'


def test_read_only_token_is_403_on_submit(api: Api) -> None:
    """A token without system/Claim.write is refused with 403 scope-insufficient."""
    response = api.client.post(
        SUBMIT,
        content=submission_json(),
        headers={"Content-Type": "application/fhir+json", "Authorization": "Bearer reader"},
    )

    assert (response.status_code, outcome_codes(response.json())) == (403, ["scope-insufficient"])
    assert api.auth.seen[-1][1] == "system/Claim.write"


def test_unavailable_keys_are_503_with_retry_after(api: Api) -> None:
    """When tokens cannot be checked the answer is 503 with Retry-After, not 401."""
    response = api.client.post(
        SUBMIT,
        content=submission_json(),
        headers={"Content-Type": "application/fhir+json", "Authorization": "Bearer keys-down"},
    )

    assert (response.status_code, response.headers["retry-after"]) == (503, "30")
    assert "www-authenticate" not in response.headers


def test_body_over_the_limit_by_content_length_is_413_before_auth(make_api: Callable[..., Api]) -> None:
    """A declared Content-Length over max_body_bytes is refused at once, without authenticating."""
    api = make_api(max_body_bytes=1_000)

    response = api.client.post(
        SUBMIT, content=b"{" + b" " * 2_000 + b"}", headers={"Content-Type": "application/fhir+json"}
    )

    assert (response.status_code, outcome_codes(response.json())) == (413, ["input-too-large"])
    assert api.auth.seen == []


def test_chunked_body_over_the_limit_is_413(make_api: Callable[..., Api]) -> None:
    """A body streamed without Content-Length is cut off at the limit with 413."""
    api = make_api(max_body_bytes=1_000)

    def chunks() -> Iterator[bytes]:
        for _ in range(50):
            yield b" " * 100

    response = api.client.post(
        SUBMIT, content=chunks(), headers={"Content-Type": "application/fhir+json", "Authorization": WRITER}
    )

    assert "content-length" not in response.request.headers
    assert (response.status_code, outcome_codes(response.json())) == (413, ["input-too-large"])
    assert api.service.calls == []


def test_a_fault_is_500_with_the_request_id_and_no_traceback(api: Api) -> None:
    """An unexpected exception answers 500 'internal' quoting the request id, and logs the traceback."""
    api.service.error = RuntimeError("database connection lost at 0x7f")

    response = api.client.post(
        SUBMIT,
        content=submission_json(),
        headers={"Content-Type": "application/fhir+json", "Authorization": WRITER, "X-Request-ID": "abc-123"},
    )

    assert response.status_code == 500
    assert response.headers["x-request-id"] == "abc-123"
    assert outcome_codes(response.json()) == ["internal"]
    assert "abc-123" in response.json()["issue"][0]["details"]["text"]
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    error_line = next(line for line in api.log_lines() if line["event"] == "unhandled exception")
    assert error_line["request_id"] == "abc-123"
    assert "Traceback" in error_line["exception"]
    assert "RuntimeError: database connection lost" in error_line["exception"]


def test_an_adapter_error_without_http_status_is_a_fault(api: Api) -> None:
    """A library misuse (UsageError has no HTTP status) is a 500 internal, not a client error."""
    api.service.error = UsageError("dump_xml takes a FHIR JSON dict")

    response = post(api, submission_json())

    assert (response.status_code, outcome_codes(response.json())) == (500, ["internal"])
    assert any(line["event"] == "unhandled exception" for line in api.log_lines())


def test_a_fault_answers_in_xml_for_an_xml_client(api: Api) -> None:
    """The 500 OperationOutcome follows the client's format too."""
    api.service.error = RuntimeError("boom")

    response = api.client.post(
        SUBMIT,
        content=submission_xml(),
        headers={"Content-Type": "application/fhir+xml", "Authorization": WRITER},
    )

    assert (response.status_code, response.headers["content-type"]) == (500, FHIR_XML)
    assert outcome_codes(parse_xml(response.content)) == ["internal"]


@pytest.mark.parametrize(
    ("service_answer", "expected"),
    [
        (answer(response_bundle("complete")), "complete"),
        (answer(response_bundle("partial"), outcome="partial"), "partial"),
        (answer(response_bundle("error"), outcome="error"), "error"),
        # The AMO answered complete and the AMC partial: the claim (and its metric) is partial.
        (answer(response_bundle("complete"), outcome="partial"), "partial"),
        (answer(response_bundle("complete"), replayed=True), "replayed"),
    ],
)
def test_submissions_are_counted_by_outcome(api: Api, service_answer: Answer, expected: str) -> None:
    """Each submission increments the counter of the claim's stored outcome (replays apart), not a
    reading of the answer's first ClaimResponse, and times the adjudication."""
    api.service.answer = service_answer

    post(api, submission_json())

    metrics = api.client.get("/metrics").text
    assert f'adapter_claim_submissions_total{{outcome="{expected}"}} 1.0' in metrics
    assert "adapter_adjudication_seconds_count 1.0" in metrics


def test_refusals_and_conflicts_are_counted(api: Api) -> None:
    """Input errors count as refused, 409s as conflict."""
    api.service.error = ConventionError([Issue("total-mismatch", "bad total")])
    post(api, submission_json())
    api.service.error = ConflictError("reused key")
    post(api, submission_json())

    metrics = api.client.get("/metrics").text
    assert 'adapter_claim_submissions_total{outcome="refused"} 1.0' in metrics
    assert 'adapter_claim_submissions_total{outcome="conflict"} 1.0' in metrics


def test_answer_is_not_cacheable(api: Api) -> None:
    """Answers carry health data: Cache-Control: no-store."""
    response = post(api, submission_json())

    assert response.headers["cache-control"] == "no-store"
    assert loads(response.content)["type"] == "collection"


class _Gate:
    """Holds every submit until released, counting how many are inside at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.inside = 0
        self.most = 0

    def submit(self, *args: object, **kwargs: object) -> Answer:
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        try:
            assert self.release.wait(timeout=10)
            return answer(response_bundle())
        finally:
            with self.lock:
                self.inside -= 1


@pytest.mark.parametrize(("limit", "expected"), [(2, 2), (1, 1), (0, 5)])
def test_a_worker_runs_at_most_submit_concurrency_submits_at_once(
    make_api: Callable[..., Api], limit: int, expected: int
) -> None:
    """Five submits at once: ``submit_concurrency`` of them run, the others wait their turn; 0 lifts
    the limit. Every one is answered."""
    api = make_api(submit_concurrency=limit)
    gate = _Gate()
    api.service.submit = gate.submit  # type: ignore[method-assign]

    async def five() -> list[int]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"Content-Type": "application/fhir+json", "Authorization": WRITER}
            posts = [
                asyncio.create_task(client.post(SUBMIT, content=submission_json(), headers=headers))
                for _ in range(5)
            ]
            await asyncio.sleep(0.3)  # time enough for every admitted submit to reach the service
            gate.release.set()
            return [response.status_code for response in await asyncio.gather(*posts)]

    assert asyncio.run(five()) == [200] * 5
    assert gate.most == expected
