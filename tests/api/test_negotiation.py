"""Content negotiation rules, tested on the pure functions (no HTTP)."""

from __future__ import annotations

import pytest

from adapter.api.negotiation import (
    NotAcceptable,
    UnsupportedMediaType,
    content_type,
    parse_accept,
    parse_media_type,
    request_format,
    response_format,
    stored_format,
)
from adapter.intake import Format

JSON, XML = Format.JSON, Format.XML


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/fhir+json", JSON),
        ("application/fhir+json; charset=utf-8", JSON),
        ("application/fhir+json;charset=UTF-8;fhirVersion=4.0", JSON),
        ("Application/FHIR+JSON", JSON),
        ("application/json", JSON),
        ("application/json+fhir", JSON),
        ("application/fhir+xml", XML),
        ("application/xml; charset=utf-8", XML),
        ("text/xml", XML),
        ("application/xml+fhir", XML),
        ('application/fhir+xml; charset="utf-8"', XML),
    ],
)
def test_request_format_reads_fhir_generic_and_legacy_types(header: str, expected: Format) -> None:
    """Every FHIR, generic and legacy JSON/XML Content-Type maps to its wire format."""

    assert request_format(header) is expected


@pytest.mark.parametrize(
    "header", [None, "", "text/plain", "application/x-www-form-urlencoded", "json", "a/b/c"]
)
def test_request_format_refuses_other_types_with_415(header: str | None) -> None:
    """A missing or non-FHIR Content-Type is a 415 media-type-unsupported."""
    with pytest.raises(UnsupportedMediaType) as caught:
        request_format(header)

    assert (caught.value.http_status, caught.value.code) == (415, "media-type-unsupported")


def test_request_format_refuses_a_charset_other_than_utf8() -> None:
    """FHIR bodies are UTF-8: another charset is a 415."""
    with pytest.raises(UnsupportedMediaType, match="utf-8"):
        request_format("application/fhir+json; charset=iso-8859-1")


def test_request_format_refuses_another_fhir_version_with_code_fhir_version() -> None:
    """Content-Type fhirVersion=3.0 is a 415 coded fhir-version."""
    with pytest.raises(UnsupportedMediaType) as caught:
        request_format("application/fhir+json; fhirVersion=3.0")

    assert (caught.value.http_status, caught.value.code) == (415, "fhir-version")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("json", JSON),
        ("xml", XML),
        ("XML", XML),
        ("application/fhir+json", JSON),
        ("application/fhir json", JSON),  # '+' left unencoded in a query string arrives as a space
        ("application/fhir+xml", XML),
        ("text/xml", XML),
        ("application/json", JSON),
        ("application/fhir+xml;fhirVersion=4.0", XML),
    ],
)
def test_format_parameter_names_the_answer_format(value: str, expected: Format) -> None:
    """_format accepts the short words and every JSON/XML media type."""

    assert (
        response_format(format_param=value, accept=None, default=JSON if expected is XML else XML) is expected
    )


def test_format_parameter_overrides_accept() -> None:
    """_format wins over Accept."""

    assert response_format(format_param="xml", accept="application/fhir+json", default=JSON) is XML


@pytest.mark.parametrize("value", ["ttl", "html", "text/html", "application/pdf"])
def test_unknown_format_parameter_is_406(value: str) -> None:
    """A _format this server cannot write is a 406 not-acceptable."""
    with pytest.raises(NotAcceptable) as caught:
        response_format(format_param=value, accept=None, default=JSON)

    assert (caught.value.http_status, caught.value.code) == (406, "not-acceptable")


def test_format_parameter_with_another_fhir_version_is_406_fhir_version() -> None:
    """_format naming fhirVersion=5.0 is a 406 coded fhir-version."""
    with pytest.raises(NotAcceptable) as caught:
        response_format(format_param="application/fhir+json;fhirVersion=5.0", accept=None, default=JSON)

    assert caught.value.code == "fhir-version"


@pytest.mark.parametrize(
    ("accept", "default", "expected"),
    [
        (None, XML, XML),
        ("", JSON, JSON),
        ("*/*", XML, XML),
        ("application/*", XML, XML),
        ("application/fhir+json", XML, JSON),
        ("application/fhir+xml", JSON, XML),
        ("application/json", XML, JSON),
        ("text/xml", JSON, XML),
        ("application/fhir+json;q=0.5, application/fhir+xml;q=0.9", JSON, XML),
        ("application/fhir+json, application/fhir+xml", XML, XML),
        ("application/fhir+xml;q=0, */*", XML, JSON),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON, XML),
        ("application/fhir+json; fhirVersion=4.0", XML, JSON),
        ("application/fhir+json; fhirVersion=3.0, */*;q=0.1", XML, XML),
        ("garbage, application/fhir+json", XML, JSON),
        ("application/fhir+json;q=2, application/fhir+xml;q=0.3", JSON, XML),
    ],
)
def test_accept_picks_the_best_producible_format(
    accept: str | None, default: Format, expected: Format
) -> None:
    """Accept with q values, wildcards and fhirVersion picks the best format; ties keep the default."""

    assert response_format(format_param=None, accept=accept, default=default) is expected


@pytest.mark.parametrize("accept", ["text/html", "image/png, text/plain;q=0.5", "application/fhir+json;q=0"])
def test_unproducible_accept_is_406_not_acceptable(accept: str) -> None:
    """An Accept that allows neither JSON nor XML is a 406 not-acceptable."""
    with pytest.raises(NotAcceptable) as caught:
        response_format(format_param=None, accept=accept, default=JSON)

    assert (caught.value.http_status, caught.value.code) == (406, "not-acceptable")


def test_accept_only_for_another_fhir_version_is_406_fhir_version() -> None:
    """Accept: application/fhir+json; fhirVersion=3.0 alone is a 406 coded fhir-version."""
    with pytest.raises(NotAcceptable) as caught:
        response_format(format_param=None, accept="application/fhir+json; fhirVersion=3.0", default=JSON)

    assert (caught.value.http_status, caught.value.code) == (406, "fhir-version")


def test_parse_accept_keeps_q_values_and_drops_malformed_ranges() -> None:
    """q is read out of the parameters; ranges with a bad q or no subtype are skipped."""
    ranges = parse_accept("application/fhir+json;q=0.7;fhirVersion=4.0, text/xml;q=abc, bogus, */*")

    assert [(media.essence, q, dict(media.params)) for media, q in ranges] == [
        ("application/fhir+json", 0.7, {"fhirversion": "4.0"}),
        ("*/*", 1.0, {}),
    ]


def test_parse_media_type_rejects_parameters_without_value() -> None:
    """A parameter without '=' makes the whole media type unreadable."""

    assert parse_media_type("application/fhir+json; charset") is None


def test_stored_format_uses_the_recorded_type_then_sniffs() -> None:
    """A stored body's format comes from its media type, or from its first byte when unknown."""

    assert (
        stored_format("application/fhir+xml", b"{}"),
        stored_format("application/octet-stream", b"  <Bundle/>"),
        stored_format("", b"{}"),
    ) == (XML, XML, JSON)


def test_content_type_names_media_type_charset_and_fhir_version() -> None:
    """Answers say application/fhir+json (or xml), charset=utf-8 and fhirVersion=4.0."""

    assert (content_type(JSON), content_type(XML)) == (
        "application/fhir+json; charset=utf-8; fhirVersion=4.0",
        "application/fhir+xml; charset=utf-8; fhirVersion=4.0",
    )
