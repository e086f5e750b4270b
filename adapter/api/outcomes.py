"""Every failure leaves as a FHIR OperationOutcome with the right status, never as plain JSON.

The handlers cover the adapter's own errors (anything with an ``http_status``: input errors,
conflicts, negotiation, authentication) and the framework's (unknown route, wrong method,
validation). Errors without an HTTP status are faults: they are re-raised so that the request
middleware logs them with a traceback and answers a bare 500 quoting the request id.
The OperationOutcome is written in the format the client asked for when that can be told.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.datastructures import Headers, QueryParams
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from adapter.api.deps import context_of, request_info
from adapter.api.negotiation import (
    NegotiationError,
    content_type,
    fhir_content,
    render,
    request_format,
    response_format,
)
from adapter.errors import AdapterError, InputError, Issue
from adapter.intake import Format
from mappings.outbound import to_operation_outcome
from mappings.systems import Canon

__all__ = [
    "NotFound",
    "error_format",
    "error_responses",
    "install_exception_handlers",
    "internal_issue",
    "outcome_body",
]

_DEFAULT_CHALLENGE = 'Bearer realm="adapter"'
_HTTP_CODES: Mapping[int, str] = {
    400: "search-parameter",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "idempotency-conflict",
    413: "input-too-large",
    415: "media-type-unsupported",
}
_DESCRIPTIONS: Mapping[int, str] = {
    400: "Unreadable input or an unknown search parameter",
    401: "No valid bearer token (see WWW-Authenticate)",
    403: "The token lacks the scope, or the client may not act for this organisation",
    404: "Unknown resource or route, or not visible to this client",
    405: "Method not allowed on this path (see Allow)",
    406: "None of the _format/Accept media types can be produced, or another fhirVersion was asked",
    409: "The Bundle.identifier was already submitted with different content",
    413: "The body exceeds the configured maximum size",
    415: "The Content-Type is not a FHIR JSON or XML media type, or names another fhirVersion",
    422: "The Bundle parses but breaks the adapter's conventions",
    500: "The adapter failed; the OperationOutcome quotes the request id",
    502: "A remote payer refused the exchange (eligibility with remote payers)",
    503: "A dependency is unavailable (token keys, store); retry later",
}


class NotFound(AdapterError):
    """No such resource, or one this client may not see: the two are deliberately alike (HTTP 404)."""

    code = "not-found"
    http_status = 404


def error_format(headers: Headers, query: QueryParams) -> Format:
    """The format to write an error in: what ``_format``/``Accept`` ask, else the body's format, else JSON."""
    default = Format.JSON
    try:
        if headers.get("content-type"):
            default = request_format(headers.get("content-type"))
    except NegotiationError:
        pass
    try:
        return response_format(
            format_param=query.get("_format"), accept=headers.get("accept"), default=default
        )
    except NegotiationError:
        return default


def outcome_body(issues: Iterable[Issue], fmt: Format, canon: Canon) -> bytes:
    return render(to_operation_outcome(issues, canon=canon), fmt)


def internal_issue(request_id: str) -> Issue:
    """The only thing a 500 says: that it failed, and which log record tells why."""
    return Issue(
        code="internal",
        message=f"The adapter failed on this request; quote request id {request_id} when reporting it.",
    )


def _respond(
    request: Request, issues: Iterable[Issue], status: int, headers: Mapping[str, str] | None = None
) -> Response:
    issues = tuple(issues)
    fmt = error_format(request.headers, request.query_params)
    request_info(request).outcome = issues[0].code if issues else None
    body = outcome_body(issues, fmt, context_of(request).canon)
    return Response(body, status_code=status, headers={**(headers or {}), "content-type": content_type(fmt)})


async def _adapter_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "http_status", None)
    if not isinstance(exc, AdapterError) or not isinstance(status, int) or not 400 <= status <= 599:
        raise exc
    issues = exc.issues if isinstance(exc, InputError) else (Issue(code=exc.code, message=exc.message),)
    headers: dict[str, str] = {}
    challenge = getattr(exc, "www_authenticate", None)
    if isinstance(challenge, str) and challenge:
        headers["WWW-Authenticate"] = challenge
    elif status == 401:
        headers["WWW-Authenticate"] = _DEFAULT_CHALLENGE
    if status == 408:
        headers["Connection"] = "close"  # the rest of a trickled body is not worth waiting for
    retry_after = getattr(exc, "retry_after", None)
    if status == 503 and isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    if status >= 500:
        # A dependency is down: one line per request, no traceback (the store logs each change of
        # the database's state once, at ERROR).
        context_of(request).logger.warning(
            "request.unavailable", code=exc.code, status=status, method=request.method, reason=exc.message
        )
    return _respond(request, issues, status, headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover - registered for that type only
        raise exc
    status = exc.status_code
    headers = dict(exc.headers or {})
    if status == 404:
        message = f"No resource or operation at {request.method} {request.url.path}"
    elif status == 405:
        message = (
            f"{request.method} is not allowed on {request.url.path}; allowed: {headers.get('Allow', '')}"
        )
    else:
        message = str(exc.detail)
    code = _HTTP_CODES.get(status, "internal")
    return _respond(request, [Issue(code=code, message=message)], status, headers)


async def _validation_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover - registered for that type only
        raise exc
    issues = [
        Issue(code="search-parameter", message=f"{'.'.join(map(str, error['loc']))}: {error['msg']}")
        for error in exc.errors()
    ] or [Issue(code="search-parameter", message="the request parameters are invalid")]
    return _respond(request, issues, 400)


def install_exception_handlers(app: FastAPI) -> None:
    """Register the OperationOutcome handlers on ``app``."""
    app.add_exception_handler(AdapterError, _adapter_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries: each status answers an OperationOutcome in JSON or XML."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {
            "description": _DESCRIPTIONS[status],
            "content": fhir_content("OperationOutcome"),
        }
        if status == 401:
            entry["headers"] = {
                "WWW-Authenticate": {"schema": {"type": "string"}, "description": "RFC 6750 challenge"}
            }
        elif status == 405:
            entry["headers"] = {"Allow": {"schema": {"type": "string"}, "description": "the allowed methods"}}
        out[status] = entry
    return out
