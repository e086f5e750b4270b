"""``GET /ClaimResponse/{id}`` (with ``_history`` and vread), ``GET /ClaimResponse?…`` and
``POST /ClaimResponse/_search`` (searchset Bundles with paging links).

Search refuses what it does not implement (unknown parameters, modifiers, repeated
parameters, values of the wrong form) with a 400 instead of silently ignoring it: a client
filtering on a parameter the server dropped would otherwise read someone else's
ClaimResponses as its own answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.responses import Response

from adapter.api.deps import ContextDep, ReadCaller
from adapter.api.negotiation import content_type, fhir_content, render, response_format
from adapter.api.outcomes import NotFound, error_responses
from adapter.api.routes_claim import NO_STORE
from adapter.api.search import (
    DATE_PATTERN,
    DAY_PATTERN,
    DAYS_ZONE,
    DEFAULT_COUNT,
    FORM_MEDIA_TYPE,
    MAX_COUNT,
    SORT_PATTERN,
    SearchError,
    SearchQuery,
    SearchSpec,
    page_links,
    read_form,
    searchset,
)
from adapter.api.search import parse_search as _parse
from adapter.api.validators import versioned_response
from adapter.intake import Format
from adapter.service import Answer
from mappings.fhir.jsonio import dumps

__all__ = [
    "DAYS_ZONE",
    "DAY_PATTERN",
    "DEFAULT_COUNT",
    "MAX_COUNT",
    "PATTERNS",
    "QUERY_PARAMETERS",
    "SPEC",
    "SearchError",
    "SearchQuery",
    "parse_search",
    "router",
    "search_parameter_docs",
    "searchset",
]

_NIR = r"[1278][0-9]{4}(?:[0-9]{2}|2A|2B)[0-9]{8}"
#: What the search route accepts: (values, meaning) per criterion, in the query string's names.
SPEC = SearchSpec(
    criteria={
        "request": (r".+", "the Claim: Claim/[id], [id] or [system]|[value]"),
        "patient.identifier": (
            rf"(?:[^|]*\|)?{_NIR}",
            "must be [system|]NIR: 15 characters, as 184069912304595",
        ),
        "insurer": (
            r"(?:[^|]*\|)?[0-9A-Z]{1,10}",
            "must be [system|] then an AMO organisme (9 digits) or an AMC number (1-10 of 0-9 A-Z)",
        ),
        "outcome": ("queued|complete|error|partial", "must be one of queued, complete, error, partial"),
        "state": ("complete|pending|dead|cancelled", "must be one of complete, pending, dead, cancelled"),
    },
    dates=("created",),
    aliases={"patient:identifier": "patient.identifier", "insurer:identifier": "insurer"},
)
#: FHIR search parameter → keyword of ``ClaimService.search_claim_responses``.
_KEYWORDS: Mapping[str, str] = {
    "request": "request",
    "patient.identifier": "patient_identifier",
    "insurer": "insurer",
    "outcome": "outcome",
    "state": "state",
}
#: The patterns the OpenAPI description gives (an empty value is ignored, so it is allowed).
PATTERNS: Mapping[str, str] = {
    **{name: f"^(?:{pattern})?$" for name, (pattern, _) in SPEC.criteria.items() if name != "request"},
    "created": f"^(?:{DATE_PATTERN})?$",
    "_sort": f"^(?:{SORT_PATTERN})?$",
}
#: The query string's parameters as the OpenAPI description lists them: (name, documentation).
QUERY_PARAMETERS: tuple[tuple[str, str], ...] = (
    ("request", "The Claim: Claim/[id], [id], or [system]|[value] of the Claim or submission identifier"),
    (
        "patient.identifier",
        "The patient's NIR: [NIR] or urn:oid:1.2.250.1.213.1.4.8|[NIR], or INS-NIA: "
        "urn:oid:1.2.250.1.213.1.4.9|[NIA] (patient:identifier too)",
    ),
    (
        "insurer",
        "The payer's identifier: [system|] AMO organisme (9 digits) or AMC number (insurer:identifier too)",
    ),
    (
        "created",
        "When the claim was received: [prefix]YYYY[-MM[-DD[Thh:mm[:ss[.fff]][zone]]]], prefix eq (default), "
        "ge, gt, le or lt; a time without a zone is French; at most twice (a range)",
    ),
    ("outcome", "The claim's outcome, the worst of its ClaimResponses': queued, complete, error or partial"),
    ("state", "The claim's processing state: complete, pending or dead (connected mode), or cancelled"),
    ("_sort", "created, -created (the default), _lastUpdated or -_lastUpdated"),
    ("_count", "Page size, a hard maximum: default 20, at most 100; 0 returns the total only"),
    ("_offset", "Page position: follow the Bundle's next/previous links"),
)

router = APIRouter()


def parse_search(query: QueryParams) -> SearchQuery:
    """Check a ClaimResponse search; every problem is reported at once, as one 400."""
    return _parse(query, SPEC)


def search_parameter_docs(
    parameters: tuple[tuple[str, str], ...], patterns: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The OpenAPI description of search parameters: each with the pattern the parser accepts."""
    return [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": doc,
            # The digits _count and _offset accept (any number of them), or nothing: empty is ignored.
            "schema": {"type": "string", "pattern": "^[0-9]*$"}
            if name in ("_count", "_offset")
            else {"type": "string", "pattern": patterns[name]}
            if name in patterns
            else {"type": "string"},
        }
        for name, doc in parameters
    ]


def _output_format(request: Request) -> Format:
    return response_format(
        format_param=request.query_params.get("_format"),
        accept=request.headers.get("accept"),
        default=Format.JSON,
    )


_SEARCH_DOC = search_parameter_docs(QUERY_PARAMETERS, PATTERNS)
_SEARCH_RESPONSES = {
    200: {"description": "A searchset Bundle", "content": fhir_content("Bundle")},
    **error_responses(400, 401, 403, 406, 500, 503),
}


@router.get(
    "/ClaimResponse",
    summary="Search ClaimResponses",
    description="A searchset Bundle with total and self/previous/next links; unknown parameters get a 400.",
    response_class=Response,
    responses=_SEARCH_RESPONSES,
    openapi_extra={
        "parameters": [*_SEARCH_DOC, {"$ref": "#/components/parameters/_format"}],
        "security": [{"bearer": ["system/ClaimResponse.read"]}],
    },
)
async def search(request: Request, ctx: ContextDep, caller: ReadCaller) -> Response:
    return await _search(request, ctx, caller, request.query_params)


@router.post(
    "/ClaimResponse/_search",
    summary="Search ClaimResponses, the parameters in a form body",
    description=(
        "The same search as GET /ClaimResponse, its parameters sent as an "
        "application/x-www-form-urlencoded body (and the URL's), so that a NIR stays out of URLs "
        "and access logs. The paging links are GET URLs."
    ),
    response_class=Response,
    responses={**_SEARCH_RESPONSES, **error_responses(400, 401, 403, 406, 413, 415, 500, 503)},
    openapi_extra={
        "parameters": [{"$ref": "#/components/parameters/_format"}],
        "requestBody": {
            "required": False,
            "content": {
                FORM_MEDIA_TYPE: {
                    "schema": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            item["name"]: item["schema"] for item in _SEARCH_DOC if item["name"] != "_format"
                        },
                    }
                }
            },
        },
        "security": [{"bearer": ["system/ClaimResponse.read"]}],
    },
)
async def search_by_post(request: Request, ctx: ContextDep, caller: ReadCaller) -> Response:
    return await _search(request, ctx, caller, await read_form(request))


async def _search(request: Request, ctx: ContextDep, caller: ReadCaller, params: QueryParams) -> Response:
    query = parse_search(params)
    fmt = response_format(
        format_param=query.format, accept=request.headers.get("accept"), default=Format.JSON
    )
    created_from, created_before = query.windows.get("created", (None, None))
    arguments: dict[str, Any] = {_KEYWORDS[name]: value for name, value in query.criteria.items()}
    if created_from is not None:
        arguments["created_from"] = created_from
    if created_before is not None:
        arguments["created_before"] = created_before
    if query.sort is not None:
        arguments["sort"] = query.sort
    page = await run_in_threadpool(
        ctx.service.search_claim_responses,
        caller=caller,
        offset=query.offset,
        count=query.count,
        **arguments,
    )
    base = str(request.base_url).rstrip("/") + "/ClaimResponse"
    links = page_links(
        base,
        query.pairs(),
        offset=query.offset,
        next_offset=page.next_offset,
        previous_offset=page.previous_offset,
    )
    bundle = searchset(base, page.resources, total=page.total, links=links)
    return Response(render(bundle, fmt), headers={**NO_STORE, "content-type": content_type(fmt)})


@router.get(
    "/ClaimResponse/{resource_id}",
    summary="Read a ClaimResponse",
    description=(
        'Its current version, with meta.versionId and meta.lastUpdated, an ETag (W/"<versionId>") '
        "and Last-Modified; If-None-Match naming the current ETag answers 304 without a body."
    ),
    response_class=Response,
    responses={
        200: {"description": "The ClaimResponse", "content": fhir_content("ClaimResponse")},
        304: {"description": "The client holds the current version (If-None-Match)"},
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
    return versioned_response(request, answer, fmt)


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


@router.get(
    "/ClaimResponse/{resource_id}/_history/{version_id}",
    summary="Read one version of a ClaimResponse",
    description="The version (vread), with its ETag and Last-Modified; 404 for a version it never had.",
    response_class=Response,
    responses={
        200: {"description": "The ClaimResponse version", "content": fhir_content("ClaimResponse")},
        304: {"description": "The client holds this version (If-None-Match)"},
        **error_responses(401, 403, 404, 406, 500, 503),
    },
    openapi_extra={
        "parameters": [{"$ref": "#/components/parameters/_format"}],
        "security": [{"bearer": ["system/ClaimResponse.read"]}],
    },
)
async def read_claim_response_version(
    resource_id: str, version_id: str, request: Request, ctx: ContextDep, caller: ReadCaller
) -> Response:
    fmt = _output_format(request)
    versions = await run_in_threadpool(ctx.service.claim_response_history, resource_id, caller=caller)
    if versions is None:
        raise NotFound(f"ClaimResponse/{resource_id} is not known to this client")
    for version in versions:
        meta = version.get("meta", {})
        if meta.get("versionId") == version_id:
            answer = Answer(
                resource=version,
                json=dumps(version),
                version=int(version_id),
                last_updated=datetime.fromisoformat(meta["lastUpdated"]),
            )
            return versioned_response(request, answer, fmt)
    raise NotFound(f"ClaimResponse/{resource_id} has no version {version_id}")
