"""``POST /Claim/$cancel``: withdraw a decided claim of the caller's tenant.

The body is a FHIR ``Parameters`` resource (JSON or XML) naming the claim by its
``Bundle.identifier`` (``identifier``) or its id (``claim``) with a ``reason`` coding; the answer
is the claim's answer Bundle with every ClaimResponse ``cancelled`` (docs/http-api.md,
"Cancelling a claim").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from adapter.api.deps import ContextDep, SubmitCaller, request_info
from adapter.api.negotiation import content_type, fhir_content, render, request_format, response_format
from adapter.api.outcomes import NotFound, error_responses
from adapter.api.routes_claim import NO_STORE, read_body
from adapter.intake import Format

__all__ = ["router"]

router = APIRouter()
T = TypeVar("T")


@router.post(
    "/Claim/$cancel",
    summary="Cancel a decided claim",
    description=(
        "Body: a Parameters resource naming one claim this client submitted, by `identifier` (the "
        "Bundle.identifier it was submitted under, valueIdentifier) or by `claim` (valueReference "
        "Claim/<id>), with a `reason` (valueCoding, system {base}/CodeSystem/cancel-reason) and an "
        "optional `note` (valueString). The claim's consumption (renewals, caps, yearly forfaits) "
        "is reversed and its answer becomes a new version whose ClaimResponses are `cancelled`; "
        "cancelling again replays that answer. 404 when this client submitted no such claim; 409 "
        "`claim-not-decided` while the claim is pending or dead-lettered, `cancel-refused` when a "
        "remote payer refuses; 503 `payer-unavailable` when a remote payer cannot be reached "
        "(nothing is cancelled: try again)."
    ),
    response_class=Response,
    responses={
        200: {"description": "The cancelled answer Bundle", "content": fhir_content("Bundle")},
        **error_responses(400, 401, 403, 404, 406, 409, 413, 415, 422, 500, 503),
    },
    openapi_extra={
        "requestBody": {"required": True, "content": fhir_content("Parameters")},
        "parameters": [{"$ref": "#/components/parameters/_format"}],
        "security": [{"bearer": ["system/Claim.write"]}],
    },
)
async def cancel(request: Request, ctx: ContextDep, caller: SubmitCaller) -> Response:
    in_format = request_format(request.headers.get("content-type"))
    out_format = response_format(
        format_param=request.query_params.get("_format"),
        accept=request.headers.get("accept"),
        default=in_format,
    )
    data = await read_body(request, ctx.settings.max_body_bytes)
    info = request_info(request)

    async def run(work: Callable[[], T]) -> T:
        return await run_in_threadpool(work)

    answer = await ctx.service.cancel(
        data, in_format, caller=caller, now=ctx.clock(), run=run, request_id=info.request_id
    )
    if answer is None:
        raise NotFound("this client submitted no such claim")
    info.outcome = "cancelled"
    body = answer.json if out_format is Format.JSON and answer.json else render(answer.resource, out_format)
    return Response(body, headers={**NO_STORE, "content-type": content_type(out_format)})
