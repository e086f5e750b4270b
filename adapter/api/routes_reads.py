"""``GET /Claim/{id}``, ``GET /Bundle/{id}``, ``GET /Claim?identifier=…`` and ``POST /Claim/_search``.

A submission is kept whole: ``Bundle/{id}`` is the Bundle as submitted and ``Claim/{id}`` the
Claim it carries, both under the id the answers' ``ClaimResponse.request`` names, with the
version meta and validators every read has (a submission never changes: version 1).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.responses import Response

from adapter.api.deps import ContextDep, ReadCaller
from adapter.api.negotiation import content_type, fhir_content, render, response_format
from adapter.api.outcomes import NotFound, error_responses
from adapter.api.routes_claim import NO_STORE
from adapter.api.routes_claimresponse import search_parameter_docs
from adapter.api.search import (
    FORM_MEDIA_TYPE,
    SORT_PATTERN,
    SearchSpec,
    page_links,
    parse_search,
    read_form,
    searchset,
)
from adapter.api.validators import versioned_response
from adapter.intake import Format

__all__ = ["CLAIM_QUERY_PARAMETERS", "CLAIM_SPEC", "router"]

#: What the Claim search accepts besides the result parameters.
CLAIM_SPEC = SearchSpec(
    criteria={"identifier": (r"(?:[^|]*\|)?[^|]+", "must be [system|]value, a value given")}
)
#: The query string's parameters as the OpenAPI description lists them: (name, documentation).
CLAIM_QUERY_PARAMETERS: tuple[tuple[str, str], ...] = (
    (
        "identifier",
        "The Claim's identifier or the Bundle.identifier it was submitted under: [system|]value "
        "(|value: an identifier without a system)",
    ),
    ("_sort", "created, -created (the default), _lastUpdated or -_lastUpdated"),
    ("_count", "Page size, a hard maximum: default 20, at most 100; 0 returns the total only"),
    ("_offset", "Page position: follow the Bundle's next/previous links"),
)
_PATTERNS = {
    "identifier": f"^(?:{CLAIM_SPEC.criteria['identifier'][0]})?$",
    "_sort": f"^(?:{SORT_PATTERN})?$",
}
_SEARCH_DOC = search_parameter_docs(CLAIM_QUERY_PARAMETERS, _PATTERNS)
_FORMAT_PARAM = {"$ref": "#/components/parameters/_format"}
_READ_RESPONSES = {
    304: {"description": "The client holds the current version (If-None-Match)"},
    **error_responses(401, 403, 404, 406, 500, 503),
}
_SEARCH_RESPONSES = {
    200: {"description": "A searchset Bundle of Claims", "content": fhir_content("Bundle")},
    **error_responses(400, 401, 403, 406, 500, 503),
}

router = APIRouter()


def _output_format(request: Request, format_param: str | None = None) -> Format:
    return response_format(
        format_param=format_param if format_param is not None else request.query_params.get("_format"),
        accept=request.headers.get("accept"),
        default=Format.JSON,
    )


@router.get(
    "/Claim",
    summary="Search Claims",
    description=(
        "A searchset Bundle of the submitted Claims, by identifier (the Claim's, or the Bundle's it "
        "came in); unknown parameters get a 400."
    ),
    response_class=Response,
    responses=_SEARCH_RESPONSES,
    openapi_extra={
        "parameters": [*_SEARCH_DOC, _FORMAT_PARAM],
        "security": [{"bearer": ["system/ClaimResponse.read"]}],
    },
)
async def search_claims(request: Request, ctx: ContextDep, caller: ReadCaller) -> Response:
    return await _search(request, ctx, caller, request.query_params)


@router.post(
    "/Claim/_search",
    summary="Search Claims, the parameters in a form body",
    description=(
        "The same search as GET /Claim, its parameters sent as an application/x-www-form-urlencoded "
        "body (and the URL's). The paging links are GET URLs."
    ),
    response_class=Response,
    responses={**_SEARCH_RESPONSES, **error_responses(400, 401, 403, 406, 413, 415, 500, 503)},
    openapi_extra={
        "parameters": [_FORMAT_PARAM],
        "requestBody": {
            "required": False,
            "content": {
                FORM_MEDIA_TYPE: {
                    "schema": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {item["name"]: item["schema"] for item in _SEARCH_DOC},
                    }
                }
            },
        },
        "security": [{"bearer": ["system/ClaimResponse.read"]}],
    },
)
async def search_claims_by_post(request: Request, ctx: ContextDep, caller: ReadCaller) -> Response:
    return await _search(request, ctx, caller, await read_form(request))


async def _search(request: Request, ctx: ContextDep, caller: ReadCaller, params: QueryParams) -> Response:
    query = parse_search(params, CLAIM_SPEC)
    fmt = _output_format(request, query.format)
    token = query.criteria.get("identifier")
    identifier: tuple[str | None, str] | None = None
    if token is not None:
        system, bar, value = token.partition("|")
        identifier = (system, value) if bar else (None, token)
    page = await run_in_threadpool(
        ctx.service.search_claims,
        caller=caller,
        identifier=identifier,
        sort=query.sort or "-created",
        offset=query.offset,
        count=query.count,
    )
    base = str(request.base_url).rstrip("/") + "/Claim"
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
    "/Claim/{resource_id}",
    summary="Read a submitted Claim",
    description=(
        "The Claim of a submission (its Bundle's first entry), under the id the answers' "
        "ClaimResponse.request names, with meta.versionId, meta.lastUpdated, an ETag and "
        "Last-Modified. Its references point into the submitted Bundle (GET /Bundle/{id})."
    ),
    response_class=Response,
    responses={200: {"description": "The Claim", "content": fhir_content("Claim")}, **_READ_RESPONSES},
    openapi_extra={"parameters": [_FORMAT_PARAM], "security": [{"bearer": ["system/ClaimResponse.read"]}]},
)
async def read_claim(resource_id: str, request: Request, ctx: ContextDep, caller: ReadCaller) -> Response:
    fmt = _output_format(request)
    answer = await run_in_threadpool(ctx.service.claim_resource, resource_id, caller=caller)
    if answer is None:
        raise NotFound(f"Claim/{resource_id} is not known to this client")
    return versioned_response(request, answer, fmt)


@router.get(
    "/Bundle/{resource_id}",
    summary="Read a submitted Bundle",
    description=(
        "The whole Bundle a claim was submitted in (Claim, patient, prescriber, organisations, "
        "coverages…), under the Claim's id, with meta.versionId, meta.lastUpdated, an ETag and "
        "Last-Modified; its other elements as submitted."
    ),
    response_class=Response,
    responses={
        200: {"description": "The submitted Bundle", "content": fhir_content("Bundle")},
        **_READ_RESPONSES,
    },
    openapi_extra={"parameters": [_FORMAT_PARAM], "security": [{"bearer": ["system/ClaimResponse.read"]}]},
)
async def read_bundle(resource_id: str, request: Request, ctx: ContextDep, caller: ReadCaller) -> Response:
    fmt = _output_format(request)
    answer = await run_in_threadpool(ctx.service.submitted_bundle, resource_id, caller=caller)
    if answer is None:
        raise NotFound(f"Bundle/{resource_id} is not known to this client")
    return versioned_response(request, answer, fmt)
