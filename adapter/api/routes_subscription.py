"""``POST /Subscription``, ``GET /Subscription/{id}``, ``GET /Subscription`` and
``DELETE /Subscription/{id}``: a client's rest-hooks on its own ClaimResponses.

A subscription is a standing read: the read scope guards every interaction, and a client sees
and deletes only its own subscriptions (another client's answers 404, as an unknown id does).
The body is FHIR JSON or XML, read by hand as ``$submit``'s is, under the same size limit.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from adapter.api.deps import AppContext, ContextDep, ReadCaller
from adapter.api.negotiation import content_type, fhir_content, render, request_format, response_format
from adapter.api.outcomes import NotFound, error_responses
from adapter.api.routes_claim import NO_STORE, read_body
from adapter.api.routes_claimresponse import SearchError, searchset
from adapter.errors import Issue
from adapter.intake import Format
from adapter.service import SubscriptionService

__all__ = ["router"]

_FORMAT_PARAM = {"$ref": "#/components/parameters/_format"}
_SECURITY = [{"bearer": ["system/ClaimResponse.read"]}]
_DEFAULT_COUNT = 20
_MAX_COUNT = 100

router = APIRouter()


def _service(ctx: AppContext) -> SubscriptionService:
    if ctx.subscriptions is None:
        raise NotFound("this server keeps no subscriptions")
    return ctx.subscriptions


def _output(request: Request, default: Format = Format.JSON) -> Format:
    return response_format(
        format_param=request.query_params.get("_format"),
        accept=request.headers.get("accept"),
        default=default,
    )


@router.post(
    "/Subscription",
    summary="Subscribe to this client's ClaimResponses",
    description=(
        "Body: an R4 Subscription (JSON or XML) with criteria ClaimResponse[?outcome=…], a rest-hook "
        "channel to an https endpoint and the signing secret extension. The handshake is sent at "
        "once: the answer (201) is the Subscription, active when the endpoint acknowledged it, "
        "error (with the reason) when it did not. The secret is never returned."
    ),
    status_code=201,
    response_class=Response,
    responses={
        201: {"description": "The Subscription, without its secret", "content": fhir_content("Subscription")},
        **error_responses(400, 401, 403, 406, 413, 415, 422, 500, 503),
    },
    openapi_extra={
        "requestBody": {"required": True, "content": fhir_content("Subscription")},
        "parameters": [_FORMAT_PARAM],
        "security": _SECURITY,
    },
)
async def create(request: Request, ctx: ContextDep, caller: ReadCaller) -> Response:
    service = _service(ctx)
    in_format = request_format(request.headers.get("content-type"))
    out_format = _output(request, in_format)
    data = await read_body(request, ctx.settings.max_body_bytes)
    answer = await service.create(data, in_format, caller=caller, now=ctx.clock())
    body = answer.json if out_format is Format.JSON else render(answer.resource, out_format)
    location = f"{str(request.base_url).rstrip('/')}/Subscription/{answer.resource['id']}"
    headers = {**NO_STORE, "content-type": content_type(out_format), "Location": location}
    return Response(body, status_code=201, headers=headers)


@router.get(
    "/Subscription",
    summary="This client's subscriptions",
    description=(
        "A searchset Bundle of the caller's own subscriptions, oldest first; only _count, _offset, _format."
    ),
    response_class=Response,
    responses={
        200: {"description": "A searchset Bundle", "content": fhir_content("Bundle")},
        **error_responses(400, 401, 403, 406, 500, 503),
    },
    openapi_extra={
        "parameters": [
            {
                "name": "_count",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "pattern": "^[0-9]*$"},
            },
            {
                "name": "_offset",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "pattern": "^[0-9]*$"},
            },
            _FORMAT_PARAM,
        ],
        "security": _SECURITY,
    },
)
async def search(request: Request, ctx: ContextDep, caller: ReadCaller) -> Response:
    service = _service(ctx)
    fmt = _output(request)
    issues: list[Issue] = []
    window: dict[str, int] = {"_count": _DEFAULT_COUNT, "_offset": 0}
    for name in dict.fromkeys(request.query_params.keys()):
        values = [value for value in request.query_params.getlist(name) if value != ""]
        if name == "_format" or not values:
            continue
        if name not in window or len(values) > 1:
            issues.append(
                Issue("search-parameter", f"{name} is not a Subscription search parameter here (or repeated)")
            )
        elif not values[0].isascii() or not values[0].isdigit():
            issues.append(Issue("search-parameter", f"{name} must be a non-negative integer"))
        else:
            window[name] = int(values[0])
    if issues:
        raise SearchError(issues)
    count, offset = min(window["_count"], _MAX_COUNT), window["_offset"]
    page = await run_in_threadpool(service.subscriptions, caller=caller, offset=offset, count=count)
    base = str(request.base_url).rstrip("/") + "/Subscription"
    links = [{"relation": "self", "url": f"{base}?_count={count}&_offset={offset}"}]
    if page.previous_offset is not None:
        links.append({"relation": "previous", "url": f"{base}?_count={count}&_offset={page.previous_offset}"})
    if page.next_offset is not None:
        links.append({"relation": "next", "url": f"{base}?_count={count}&_offset={page.next_offset}"})
    bundle = searchset(base, page.resources, total=page.total, links=links)
    return Response(render(bundle, fmt), headers={**NO_STORE, "content-type": content_type(fmt)})


@router.get(
    "/Subscription/{resource_id}",
    summary="Read one of this client's subscriptions",
    description="Its status now (requested, active, error with the reason, off), never its secret.",
    response_class=Response,
    responses={
        200: {"description": "The Subscription", "content": fhir_content("Subscription")},
        **error_responses(401, 403, 404, 406, 500, 503),
    },
    openapi_extra={"parameters": [_FORMAT_PARAM], "security": _SECURITY},
)
async def read(resource_id: str, request: Request, ctx: ContextDep, caller: ReadCaller) -> Response:
    service = _service(ctx)
    fmt = _output(request)
    answer = await run_in_threadpool(service.subscription, resource_id, caller=caller)
    if answer is None:
        raise NotFound(f"Subscription/{resource_id} is not known to this client")
    body = answer.json if fmt is Format.JSON else render(answer.resource, fmt)
    return Response(body, headers={**NO_STORE, "content-type": content_type(fmt)})


@router.delete(
    "/Subscription/{resource_id}",
    summary="Delete one of this client's subscriptions",
    description=(
        "No notification is sent to it afterwards. 204 when deleted, 404 when unknown or another client's."
    ),
    status_code=204,
    response_class=Response,
    responses={204: {"description": "Deleted"}, **error_responses(401, 403, 404, 500, 503)},
    openapi_extra={"security": _SECURITY},
)
async def delete(resource_id: str, ctx: ContextDep, caller: ReadCaller) -> Response:
    service = _service(ctx)
    if not await run_in_threadpool(service.delete, resource_id, caller=caller, now=ctx.clock()):
        raise NotFound(f"Subscription/{resource_id} is not known to this client")
    return Response(status_code=204)
