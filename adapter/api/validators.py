"""The validators of a versioned read: ``ETag`` (``W/"<versionId>"``), ``Last-Modified``, and the
304 that ``If-None-Match`` earns when the client already holds the current version.

The ETag is weak and names the version, as FHIR's RESTful API defines it: the JSON and the XML
of one version are the same resource, so they share it.
"""

from __future__ import annotations

from datetime import UTC
from email.utils import format_datetime

from starlette.requests import Request
from starlette.responses import Response

from adapter.api.negotiation import content_type, render
from adapter.intake import Format
from adapter.service import Answer

__all__ = ["etag", "matches", "versioned_response"]

#: Stored resources carry health data: no shared or browser cache may keep them.
_NO_STORE = {"Cache-Control": "no-store"}


def etag(version: int) -> str:
    return f'W/"{version}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """Whether ``If-None-Match`` names ``tag`` (weak comparison, RFC 9110 §13.1.2) or is ``*``."""
    if not if_none_match:
        return False
    opaque = tag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == opaque:
            return True
    return False


def versioned_response(request: Request, answer: Answer, fmt: Format) -> Response:
    """The resource in ``fmt`` with its validators, or a bodiless 304 when the client holds it."""
    headers = dict(_NO_STORE)
    if answer.version is not None:
        headers["ETag"] = etag(answer.version)
    if answer.last_updated is not None:
        headers["Last-Modified"] = format_datetime(answer.last_updated.astimezone(UTC), usegmt=True)
    if "ETag" in headers and matches(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    body = answer.json if fmt is Format.JSON and answer.json else render(answer.resource, fmt)
    return Response(body, headers={**headers, "content-type": content_type(fmt)})
