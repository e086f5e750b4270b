"""FHIR content negotiation: what the body is (``Content-Type``) and what to answer (``_format``, ``Accept``).

The rules come from the FHIR R4 RESTful API page: the FHIR media types are
``application/fhir+json`` and ``application/fhir+xml``; generic JSON and XML types and the
legacy ``application/json+fhir`` forms are accepted too; ``_format`` overrides ``Accept`` but
never ``Content-Type``; a ``fhirVersion`` media-type parameter names the FHIR release, and
this server speaks only 4.0 (R4). Bodies are UTF-8. Everything here is pure: headers in,
a :class:`~adapter.intake.Format` or an error out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adapter.errors import AdapterError
from adapter.intake import Format
from mappings.fhir.jsonio import dumps
from mappings.fhir.xml import dump_xml

__all__ = [
    "FHIR_VERSION",
    "MEDIA_TYPES",
    "MediaType",
    "NegotiationError",
    "NotAcceptable",
    "UnsupportedMediaType",
    "content_type",
    "fhir_content",
    "format_parameter",
    "parse_accept",
    "parse_media_type",
    "render",
    "request_format",
    "response_format",
    "stored_format",
]

FHIR_VERSION = "4.0"

#: Every media type read or produced, with the wire format it means.
MEDIA_TYPES: Mapping[str, Format] = {
    "application/fhir+json": Format.JSON,
    "application/json": Format.JSON,
    "application/json+fhir": Format.JSON,
    "application/fhir+xml": Format.XML,
    "application/xml": Format.XML,
    "text/xml": Format.XML,
    "application/xml+fhir": Format.XML,
}
_FORMAT_WORDS: Mapping[str, Format] = {"json": Format.JSON, "xml": Format.XML}
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")


class NegotiationError(AdapterError):
    """The request's media types cannot be honoured; ``http_status`` says how (406 or 415)."""

    http_status = 400


class UnsupportedMediaType(NegotiationError):
    """The body's ``Content-Type`` is not a FHIR format this server reads (HTTP 415)."""

    code = "media-type-unsupported"
    http_status = 415


class NotAcceptable(NegotiationError):
    """Neither ``_format`` nor ``Accept`` names a format this server writes (HTTP 406)."""

    code = "not-acceptable"
    http_status = 406


@dataclass(frozen=True, slots=True)
class MediaType:
    """A parsed media type; names are lower-cased, parameter values unquoted."""

    type: str
    subtype: str
    params: Mapping[str, str] = field(default_factory=dict)

    @property
    def essence(self) -> str:
        return f"{self.type}/{self.subtype}"

    @property
    def fhir_version(self) -> str | None:
        return self.params.get("fhirversion")

    def matches(self, essence: str) -> int | None:
        """How specifically this (Accept) range covers ``essence``: 2 exact, 1 ``type/*``, 0 ``*/*``."""
        kind, _, sub = essence.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 0
        if self.type == kind and self.subtype == "*":
            return 1
        if self.type == kind and self.subtype == sub:
            return 2
        return None


def _token(text: str) -> bool:
    return bool(text) and all(char in _TOKEN_CHARS for char in text)


def parse_media_type(text: str) -> MediaType | None:
    """``type/subtype; name=value …`` or None when the text is not a media type."""
    head, *rest = text.split(";")
    kind, slash, sub = head.strip().lower().partition("/")
    if not slash or not _token(kind) or not _token(sub):
        return None
    params: dict[str, str] = {}
    for raw in rest:
        name, equals, value = raw.strip().partition("=")
        name = name.strip().lower()
        if not name and not equals:
            continue  # a trailing ';'
        if not equals or not _token(name):
            return None
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        params[name] = value
    return MediaType(kind, sub, params)


def parse_accept(text: str) -> list[tuple[MediaType, float]]:
    """The ranges of an ``Accept`` header with their q values; malformed ranges are skipped."""
    ranges: list[tuple[MediaType, float]] = []
    for part in text.split(","):
        if not part.strip():
            continue
        media = parse_media_type(part)
        if media is None:
            continue
        params = dict(media.params)
        quality = _quality(params.pop("q", "1"))
        if quality is None:
            continue
        ranges.append((MediaType(media.type, media.subtype, params), quality))
    return ranges


def _quality(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


def _check_version(media: MediaType, error: type[NegotiationError]) -> None:
    version = media.fhir_version
    if version is not None and version != FHIR_VERSION:
        raise error(
            f"fhirVersion={version} is not served: this server speaks FHIR {FHIR_VERSION} (R4) only",
            code="fhir-version",
        )


def request_format(content_type: str | None) -> Format:
    """The wire format of a request body, from its ``Content-Type``; anything else is a 415."""
    if not content_type or not content_type.strip():
        raise UnsupportedMediaType(
            "a Content-Type is required: application/fhir+json or application/fhir+xml"
        )
    media = parse_media_type(content_type)
    fmt = MEDIA_TYPES.get(media.essence) if media is not None else None
    if media is None or fmt is None:
        raise UnsupportedMediaType("the Content-Type must be application/fhir+json or application/fhir+xml")
    charset = media.params.get("charset")
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        raise UnsupportedMediaType("FHIR bodies are UTF-8: charset must be utf-8")
    _check_version(media, UnsupportedMediaType)
    return fmt


def _format_param(value: str) -> Format:
    # An unencoded '+' in a query string arrives as a space: "application/fhir json".
    text = value.strip().replace(" ", "+")
    word = _FORMAT_WORDS.get(text.lower())
    if word is not None:
        return word
    media = parse_media_type(text)
    fmt = MEDIA_TYPES.get(media.essence) if media is not None else None
    if media is None or fmt is None:
        raise NotAcceptable("_format must be json, xml, application/fhir+json or application/fhir+xml")
    _check_version(media, NotAcceptable)
    return fmt


def response_format(*, format_param: str | None, accept: str | None, default: Format) -> Format:
    """The format to answer in: ``_format`` first, then ``Accept``, else ``default``.

    For ``Accept`` each format scores the q value of the most specific range covering one of
    its media types (RFC 9110 §12.5.1), or 0 when its FHIR media type, which the answer would
    carry, is refused by name (q=0); ranges naming another ``fhirVersion`` are ignored. The
    best score wins, ``default`` on a tie; a best score of 0 is a 406, coded ``fhir-version``
    when only a version kept a range from matching.
    """
    if format_param is not None and format_param.strip():
        return _format_param(format_param)
    if accept is None or not accept.strip():
        return default
    ranges = parse_accept(accept)
    usable = [(media, q) for media, q in ranges if media.fhir_version in (None, FHIR_VERSION)]
    scores = dict.fromkeys(Format, 0.0)
    refused: set[Format] = set()
    for essence, fmt in MEDIA_TYPES.items():
        best: tuple[int, float] | None = None
        for media, quality in usable:
            specificity = media.matches(essence)
            if specificity is not None and (best is None or specificity > best[0]):
                best = (specificity, quality)
        if best is None:
            continue
        scores[fmt] = max(scores[fmt], best[1])
        if essence == fmt.media_type and best == (2, 0.0):
            refused.add(fmt)  # the answer would carry this very type, which the client refused
    for fmt in refused:
        scores[fmt] = 0.0
    ranked = sorted(Format, key=lambda fmt: (scores[fmt], fmt is default), reverse=True)
    if scores[ranked[0]] > 0:
        return ranked[0]
    if len(usable) < len(ranges):
        wrong = next(media for media, _ in ranges if media.fhir_version not in (None, FHIR_VERSION))
        _check_version(wrong, NotAcceptable)
    raise NotAcceptable("Accept must allow application/fhir+json or application/fhir+xml")


def stored_format(media_type: str, data: bytes) -> Format:
    """The format of a stored body from its recorded media type, or by sniffing when unknown."""
    media = parse_media_type(media_type)
    known = MEDIA_TYPES.get(media.essence) if media is not None else None
    return known or Format.sniff(data)


def content_type(fmt: Format) -> str:
    """The ``Content-Type`` of every FHIR answer: the FHIR media type, UTF-8, R4."""
    return f"{fmt.media_type}; charset=utf-8; fhirVersion={FHIR_VERSION}"


def render(resource: Mapping[str, Any], fmt: Format) -> bytes:
    """A FHIR JSON dict as bytes in ``fmt`` (Decimals keep their digits in both)."""
    return dumps(resource) if fmt is Format.JSON else dump_xml(resource)


# What str.strip() removes (Python's whitespace), as a JSON Schema (ECMA 262) character class.
_BLANKS = "[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"


def _any_case(text: str) -> str:
    """A pattern matching ``text`` in any letter case, ``+`` also as a space (an unencoded ``+``)."""
    parts = []
    for char in text:
        if char.isalpha():
            parts.append(f"[{char.lower()}{char.upper()}]")
        elif char == "+":
            parts.append("[+ ]")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def format_parameter() -> dict[str, Any]:
    """The OpenAPI description of ``_format``: its pattern allows exactly what ``_format_param``
    accepts (any letter case, surrounding blanks, a space for an unencoded ``+``, an empty value),
    but for media-type parameters other than ``fhirVersion``, which the description mentions."""
    words = "|".join(_any_case(word) for word in _FORMAT_WORDS)
    types = "|".join(_any_case(essence) for essence in MEDIA_TYPES)
    version = re.escape(FHIR_VERSION)
    parameter = f'(?:;{_any_case("fhirVersion")}=(?:{version}|"{version}"))?;?'
    return {
        "name": "_format",
        "in": "query",
        "required": False,
        "description": (
            "Answer format, overriding Accept: json, xml or one of the JSON or XML media types, "
            f"optionally with ;fhirVersion={FHIR_VERSION} (another fhirVersion is a 406). Letter case "
            "is not significant, other media-type parameters are ignored, and an unencoded + (read "
            "as a space) is accepted; a space anywhere else is not. Anything else is a 406; an "
            "empty value is ignored."
        ),
        "schema": {
            "type": "string",
            "pattern": f"^{_BLANKS}*(?:|{words}|(?:{types}){parameter}){_BLANKS}*$",
        },
    }


def fhir_content(schema: str) -> dict[str, Any]:
    """OpenAPI ``content`` for a FHIR resource in both formats (the XML form is a string)."""
    return {
        Format.JSON.media_type: {"schema": {"$ref": f"#/components/schemas/{schema}"}},
        Format.XML.media_type: {"schema": {"type": "string", "description": f"{schema} in FHIR XML"}},
    }
