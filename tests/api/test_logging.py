"""Access log lines, and the masking that keeps NIRs and tokens out of every log line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
import structlog

from adapter.api.logging import configure_logging, make_logger, mask_sensitive, scrub
from tests.api.conftest import NIR, NOW, READER, WRITER, Api, submission_json
from tests.support.identifiers import nir

SPACED_NIR = f"{NIR[0]} {NIR[1:3]} {NIR[3:5]} {NIR[5:7]} {NIR[7:10]} {NIR[10:13]} {NIR[13:]}"
CORSICAN_NIR = nir("269022A123456")


def test_one_access_line_per_request_with_the_operational_fields(api: Api) -> None:
    """Each request logs one JSON line: method, route template, status, latency, client, outcome, id."""
    api.client.post(
        "/Claim/$submit",
        content=submission_json(),
        headers={"Content-Type": "application/fhir+json", "Authorization": WRITER, "X-Request-ID": "r-1"},
    )

    (line,) = api.access_lines()
    assert line == {
        "event": "request",
        "level": "info",
        "timestamp": "2026-03-02T10:30:00.000+01:00",
        "request_id": "r-1",
        "method": "POST",
        "route": "/Claim/$submit",
        "status": 200,
        "latency_ms": 15.0,  # three 5 ms ticks: the service call reads the timer twice in between
        "client_id": "writer",
        "outcome": "complete",
    }


def test_error_requests_log_the_error_code_as_outcome(api: Api) -> None:
    """A refused request's line carries its error code as the outcome."""
    api.client.get("/ClaimResponse/unknown", headers={"Authorization": READER})

    (line,) = api.access_lines()
    assert (line["status"], line["outcome"], line["route"]) == (
        404,
        "not-found",
        "/ClaimResponse/{resource_id}",
    )


def test_413_before_routing_still_names_the_route(make_api: Callable[..., Api]) -> None:
    """A body refused by Content-Length is logged under its route template."""
    api = make_api(max_body_bytes=10)
    api.client.post("/Claim/$submit", content=b"x" * 100, headers={"Content-Type": "application/fhir+json"})

    (line,) = api.access_lines()
    assert (line["route"], line["status"], line["outcome"]) == ("/Claim/$submit", 413, "input-too-large")


def test_no_nir_reaches_the_log(api: Api) -> None:
    """A NIR in the body, a search parameter, a request id or an exception message never shows in the log."""
    api.client.post(
        "/Claim/$submit",
        content=submission_json(),
        headers={"Content-Type": "application/fhir+json", "Authorization": WRITER},
    )
    api.client.get(
        "/ClaimResponse",
        params={"patient.identifier": f"urn:oid:1.2.250.1.213.1.4.8|{NIR}"},
        headers={"Authorization": READER, "X-Request-ID": NIR},
    )
    api.service.error = RuntimeError(f"no beneficiary {NIR} / {SPACED_NIR}, token Bearer abc.def")
    api.client.post(
        "/Claim/$submit",
        content=submission_json(),
        headers={"Content-Type": "application/fhir+json", "Authorization": WRITER},
    )

    text = api.log.getvalue()
    assert NIR not in text
    assert SPACED_NIR not in text
    assert "abc.def" not in text
    assert "no beneficiary [NIR] / [NIR]" in text
    assert len(api.access_lines()) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (NIR, "[NIR]"),
        (f"nir={NIR};", "nir=[NIR];"),
        (SPACED_NIR, "[NIR]"),
        (CORSICAN_NIR, "[NIR]"),
        (f"urn:oid:1.2.250.1.213.1.4.8|{NIR}", "urn:oid:1.2.250.1.213.1.4.8|[NIR]"),
        ("12345678901234", "12345678901234"),
        ("1234567890123456", "1234567890123456"),
        (f"id{NIR}x", f"id{NIR}x"),
        ("latency 12.5 ms", "latency 12.5 ms"),
        ("Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2ln", "Authorization: Bearer [redacted]"),
        ("token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", "token=[jwt]"),
        ("eu-person|DE:X123456789&_count=x", "eu-person|[FOREIGN-ID]&_count=x"),
        ("patient.identifier=BE%3A51.02.14-123.45", "patient.identifier=[FOREIGN-ID]"),
        ("HTTP/1.1 200 OK", "HTTP/1.1 200 OK"),
        ("code=DE:abc", "code=DE:abc"),
    ],
)
def test_scrub_masks_nir_like_numbers_and_credentials(text: str, expected: str) -> None:
    """NIR shapes (plain, spaced, Corsican) and bearer tokens are masked; other numbers are kept."""

    assert scrub(text) == expected


def test_mask_sensitive_walks_nested_values_keys_and_integers() -> None:
    """The processor masks inside dicts, lists, keys and 15-digit integers, and keeps other values."""
    event = {
        "event": "x",
        "details": {"nir": NIR, NIR: 1, "list": [int(NIR), (SPACED_NIR,)]},
        "count": 3,
        "ok": True,
    }

    masked = mask_sensitive(None, "info", event)

    assert masked == {
        "event": "x",
        "details": {"nir": "[NIR]", "[NIR]": 1, "list": ["[NIR]", ["[NIR]"]]},
        "count": 3,
        "ok": True,
    }


def test_make_logger_filters_below_its_level() -> None:
    """A WARNING logger drops INFO lines and writes WARNING ones as JSON."""
    stream = io.StringIO()
    logger = make_logger(clock=lambda: NOW, stream=stream, level="WARNING")

    logger.info("quiet")
    logger.warning("loud", nir=NIR)

    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert (line["event"], line["level"], line["nir"]) == ("loud", "warning", "[NIR]")


def test_make_logger_refuses_an_unknown_level() -> None:
    """A misspelt level is a configuration error, not silence."""
    with pytest.raises(ValueError, match="verbose"):
        make_logger(clock=lambda: NOW, level="verbose")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


@pytest.mark.usefixtures("restore_logging")
def test_configure_logging_masks_structlog_and_standard_library_lines() -> None:
    """After configure_logging both structlog and stdlib loggers write masked JSON lines."""
    stream = io.StringIO()
    configure_logging(clock=lambda: NOW, stream=stream, level="INFO")

    structlog.get_logger("adapter.service").info("stored", beneficiary=NIR)
    logging.getLogger("uvicorn.error").warning("client sent %s", NIR)

    first, second = (json.loads(text) for text in stream.getvalue().splitlines())
    assert (first["event"], first["beneficiary"]) == ("stored", "[NIR]")
    assert (second["event"], second["level"], second["logger"]) == (
        "client sent [NIR]",
        "warning",
        "uvicorn.error",
    )
