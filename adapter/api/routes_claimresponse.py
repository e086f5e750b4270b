"""``GET /ClaimResponse/{id}`` and ``GET /ClaimResponse?…`` (searchset Bundles with paging links).

Search refuses what it does not implement (unknown parameters, modifiers, repeated
parameters) with a 400 instead of silently ignoring it: a client filtering on a parameter
the server dropped would otherwise read someone else's ClaimResponses as its own answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.responses import Response

from adapter.api.capability import SEARCH_PARAMETERS
from adapter.api.deps import ContextDep, ReadCaller
from adapter.api.negotiation import content_type, fhir_content, render, response_format
from adapter.api.outcomes import NotFound, error_responses
from adapter.api.routes_claim import NO_STORE
from adapter.errors import InputError, Issue
from adapter.intake import Format

__all__ = [
    "DAYS_ZONE",
    "DAY_PATTERN",
    "DEFAULT_COUNT",
    "MAX_COUNT",
    "PATTERNS",
    "SearchError",
    "SearchQuery",
    "page_links",
    "parse_search",
    "router",
]

DEFAULT_COUNT = 20
MAX_COUNT = 100
#: FHIR search parameter → keyword of ``ClaimService.search_claim_responses``.
_CRITERIA: Mapping[str, str] = {
    "request": "request",
    "patient.identifier": "patient_identifier",
    "insurer": "insurer",
    "outcome": "outcome",
    "state": "state",
}
_CREATED = "created"
_CONTROLS = ("_count", "_offset", "_format")
_KNOWN = (*_CRITERIA, _CREATED, *_CONTROLS)

#: The days of ``created`` are French days: a claim received at 00:30 in Paris is of that day.
DAYS_ZONE = ZoneInfo("Europe/Paris")
# A real day of 1900-2999 (leap years included), so that the pattern the OpenAPI description
# publishes is exactly what the parser accepts.
_DAY = (
    r"(?:19|2[0-9])[0-9]{2}-(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:19|2[0-9])[0-9]{2}-(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|(?:19|2[0-9])[0-9]{2}-02-(?:0[1-9]|1[0-9]|2[0-8])"
    r"|(?:(?:19|2[0-9])(?:0[48]|[2468][048]|[13579][26])|2[048]00)-02-29"
)
#: A real day, YYYY-MM-DD (1900-2999), as a regular expression.
DAY_PATTERN = _DAY
_CREATED_VALUE = re.compile(rf"(eq|ge|gt|le|lt)?({_DAY})")
#: The values each token parameter takes (anything else is a 400, never an empty page).
_TOKENS: Mapping[str, tuple[str, ...]] = {
    "outcome": ("queued", "complete", "error", "partial"),
    "state": ("complete", "pending", "dead", "cancelled"),
}
#: The patterns the OpenAPI description gives (an empty value is ignored, so it is allowed).
PATTERNS: Mapping[str, str] = {
    _CREATED: rf"^(?:(?:eq|ge|gt|le|lt)?(?:{_DAY}))?$",
    **{name: f"^(?:{'|'.join(values)})?$" for name, values in _TOKENS.items()},
}

router = APIRouter()


class SearchError(InputError):
    """The search asks for something this server does not implement (HTTP 400)."""

    http_status = 400


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A checked ClaimResponse search: criteria by FHIR name, page window, requested ``_format``."""

    criteria: Mapping[str, str]
    count: int = DEFAULT_COUNT
    offset: int = 0
    format: str | None = None
    created: tuple[str, ...] = ()
    created_from: datetime | None = None
    created_before: datetime | None = None

    def service_arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {_CRITERIA[name]: value for name, value in self.criteria.items()}
        if self.created_from is not None:
            arguments["created_from"] = self.created_from
        if self.created_before is not None:
            arguments["created_before"] = self.created_before
        return arguments


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=DAYS_ZONE)


def _created_bounds(values: Sequence[str], issues: list[Issue]) -> tuple[datetime | None, datetime | None]:
    """``created`` values as one window [from, before): each narrows it (FHIR's AND of repeats)."""
    start: datetime | None = None
    before: datetime | None = None
    for value in values:
        match = _CREATED_VALUE.fullmatch(value)
        if match is None:
            issues.append(
                Issue(
                    code="search-parameter", message="created must be [eq|ge|gt|le|lt]YYYY-MM-DD (a real day)"
                )
            )
            continue
        prefix, day = match.group(1) or "eq", date.fromisoformat(match.group(2))
        first, after = _day_start(day), _day_start(day + timedelta(days=1))
        low = {"eq": first, "ge": first, "gt": after}.get(prefix)
        high = {"eq": after, "le": after, "lt": first}.get(prefix)
        if low is not None:
            start = low if start is None else max(start, low)
        if high is not None:
            before = high if before is None else min(before, high)
    return start, before


def _non_negative(name: str, value: str | None, default: int, issues: list[Issue]) -> int:
    if value is None:
        return default
    if not value.isascii() or not value.isdigit():
        issues.append(Issue(code="search-parameter", message=f"{name} must be a non-negative integer"))
        return default
    return int(value)


def parse_search(query: QueryParams) -> SearchQuery:
    """Check the query string; every problem is reported at once, as one 400."""
    issues: list[Issue] = []
    values: dict[str, str] = {}
    created: tuple[str, ...] = ()
    for name in dict.fromkeys(query.keys()):
        given = [value for value in query.getlist(name) if value != ""]
        if name not in _KNOWN:
            issues.append(
                Issue(
                    code="search-parameter",
                    message=f"unknown search parameter {name!r}; supported: {', '.join(_KNOWN)}",
                )
            )
        elif name == _CREATED and len(given) > 2:
            issues.append(Issue(code="search-parameter", message="created may be given twice at most"))
        elif name == _CREATED:
            created = tuple(given)
        elif len(given) > 1:
            issues.append(Issue(code="search-parameter", message=f"{name} may be given once only"))
        elif given:  # FHIR: a parameter with an empty value is ignored
            values[name] = given[0]
    for name, allowed in _TOKENS.items():
        if name in values and values[name] not in allowed:
            issues.append(
                Issue(code="search-parameter", message=f"{name} must be one of {', '.join(allowed)}")
            )
    created_from, created_before = _created_bounds(created, issues)
    count = min(_non_negative("_count", values.get("_count"), DEFAULT_COUNT, issues), MAX_COUNT)
    offset = _non_negative("_offset", values.get("_offset"), 0, issues)
    if issues:
        raise SearchError(issues)
    criteria = {name: values[name] for name in _CRITERIA if name in values}
    return SearchQuery(
        criteria=criteria,
        count=count,
        offset=offset,
        format=values.get("_format"),
        created=created,
        created_from=created_from,
        created_before=created_before,
    )


def _page_url(base: str, query: SearchQuery, offset: int) -> str:
    pairs = [
        *query.criteria.items(),
        *((_CREATED, value) for value in query.created),
        ("_count", str(query.count)),
        ("_offset", str(offset)),
    ]
    if query.format is not None:
        pairs.append(("_format", query.format))
    return f"{base}?{urlencode(pairs, safe='|:/')}"


def page_links(
    base: str, query: SearchQuery, *, next_offset: int | None, previous_offset: int | None
) -> list[dict[str, str]]:
    """``self``, plus ``previous``/``next`` at the offsets the service gave (they are opaque:
    a page keeps the ClaimResponses of one submission together, so offsets need not be
    multiples of ``_count``)."""
    links = [{"relation": "self", "url": _page_url(base, query, query.offset)}]
    if previous_offset is not None:
        links.append({"relation": "previous", "url": _page_url(base, query, previous_offset)})
    if next_offset is not None:
        links.append({"relation": "next", "url": _page_url(base, query, next_offset)})
    return links


def searchset(
    base: str, resources: Sequence[Mapping[str, Any]], *, total: int, links: list[dict[str, str]]
) -> dict[str, Any]:
    entries = []
    for resource in resources:
        entry: dict[str, Any] = {}
        if isinstance(resource.get("id"), str):
            entry["fullUrl"] = f"{base}/{resource['id']}"
        entry["resource"] = resource
        entry["search"] = {"mode": "match"}
        entries.append(entry)
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links}
    if entries:
        bundle["entry"] = entries
    return bundle


def _output_format(request: Request) -> Format:
    return response_format(
        format_param=request.query_params.get("_format"),
        accept=request.headers.get("accept"),
        default=Format.JSON,
    )


_SEARCH_DOC = [
    {
        "name": name,
        "in": "query",
        "required": False,
        "description": doc,
        # The digits _non_negative accepts (any number of them), or nothing: an empty value is ignored.
        "schema": {"type": "string", "pattern": "^[0-9]*$"}
        if kind == "number"
        else {"type": "string", "pattern": PATTERNS[name]}
        if name in PATTERNS
        else {"type": "string"},
    }
    for name, kind, _, doc in SEARCH_PARAMETERS
]


@router.get(
    "/ClaimResponse",
    summary="Search ClaimResponses",
    description="A searchset Bundle with total and self/previous/next links; unknown parameters get a 400.",
    response_class=Response,
    responses={
        200: {"description": "A searchset Bundle", "content": fhir_content("Bundle")},
        **error_responses(400, 401, 403, 406, 500, 503),
    },
    openapi_extra={
        "parameters": [*_SEARCH_DOC, {"$ref": "#/components/parameters/_format"}],
        "security": [{"bearer": ["system/ClaimResponse.read"]}],
    },
)
async def search(request: Request, ctx: ContextDep, caller: ReadCaller) -> Response:
    query = parse_search(request.query_params)
    fmt = _output_format(request)
    page = await run_in_threadpool(
        ctx.service.search_claim_responses,
        caller=caller,
        offset=query.offset,
        count=query.count,
        **query.service_arguments(),
    )
    base = str(request.base_url).rstrip("/") + "/ClaimResponse"
    links = page_links(base, query, next_offset=page.next_offset, previous_offset=page.previous_offset)
    bundle = searchset(base, page.resources, total=page.total, links=links)
    return Response(render(bundle, fmt), headers={**NO_STORE, "content-type": content_type(fmt)})


@router.get(
    "/ClaimResponse/{resource_id}",
    summary="Read a ClaimResponse",
    response_class=Response,
    responses={
        200: {"description": "The ClaimResponse", "content": fhir_content("ClaimResponse")},
        **error_responses(401, 403, 404, 406, 500, 503),
    },
    openapi_extra={
        "parameters": [{"$ref": "#/components/parameters/_format"}],
        "security": [{"bearer": ["system/ClaimResponse.read"]}],
    },
)
async def read_claim_response(
    resource_id: str, request: Request, ctx: ContextDep, caller: ReadCaller
) -> Response:
    fmt = _output_format(request)
    answer = await run_in_threadpool(ctx.service.claim_response, resource_id, caller=caller)
    if answer is None:
        raise NotFound(f"ClaimResponse/{resource_id} is not known to this client")
    body = answer.json if fmt is Format.JSON and answer.json else render(answer.resource, fmt)
    return Response(body, headers={**NO_STORE, "content-type": content_type(fmt)})


@router.get(
    "/ClaimResponse/{resource_id}/_history",
    summary="Every version of a ClaimResponse",
    description=(
        "A history Bundle, newest first. A claim answered at once has one version; one pended for "
        "remote payers has its queued answer and the final one."
    ),
    response_class=Response,
    responses={
        200: {"description": "A history Bundle", "content": fhir_content("Bundle")},
        **error_responses(401, 403, 404, 406, 500, 503),
    },
    openapi_extra={
        "parameters": [{"$ref": "#/components/parameters/_format"}],
        "security": [{"bearer": ["system/ClaimResponse.read"]}],
    },
)
async def claim_response_history(
    resource_id: str, request: Request, ctx: ContextDep, caller: ReadCaller
) -> Response:
    fmt = _output_format(request)
    versions = await run_in_threadpool(ctx.service.claim_response_history, resource_id, caller=caller)
    if versions is None:
        raise NotFound(f"ClaimResponse/{resource_id} is not known to this client")
    bundle = {
        "resourceType": "Bundle",
        "type": "history",
        "total": len(versions),
        "entry": [
            {
                "fullUrl": f"{str(request.base_url).rstrip('/')}/ClaimResponse/{resource_id}",
                "resource": version,
                "request": {
                    "method": "POST" if version["meta"]["versionId"] == "1" else "PUT",
                    "url": f"ClaimResponse/{resource_id}",
                },
                "response": {"status": "201" if version["meta"]["versionId"] == "1" else "200"},
            }
            for version in versions
        ],
    }
    return Response(render(bundle, fmt), headers={**NO_STORE, "content-type": content_type(fmt)})
