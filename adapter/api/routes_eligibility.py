"""``POST /CoverageEligibilityRequest/$submit`` (rights and benefits before billing) and
``POST /DeviceRequest/$validate`` (a prescription checked before it reaches a supplier).

Both read the body by hand, as ``Claim/$submit`` does: FHIR JSON or XML, under the same size
limit and content negotiation. An eligibility question is answered with a Bundle of
CoverageEligibilityResponses (nothing consumed; the question is kept as the tenant's audit
record and replays); a readable DeviceRequest is answered 200 with an OperationOutcome of its
errors, warnings and information, unreadable input 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from adapter.api.deps import ContextDep, SubmitCaller, request_info
from adapter.api.negotiation import content_type, fhir_content, render, request_format, response_format
from adapter.api.outcomes import error_responses
from adapter.api.routes_claim import NO_STORE, _read_body
from adapter.api.routes_claimresponse import DAYS_ZONE
from adapter.intake import Format

__all__ = ["router"]

_FORMAT_PARAM = {"$ref": "#/components/parameters/_format"}
T = TypeVar("T")

router = APIRouter()


@router.post(
    "/CoverageEligibilityRequest/$submit",
    summary="Ask whether rights are open and what would be reimbursed",
    description=(
        "Body: a collection Bundle whose first entry is the CoverageEligibilityRequest, with the "
        "patient, the provider, the AMO and optional AMC coverages and their organisations, and "
        "optionally the prescription (FHIR R4, JSON or XML). Answer: a collection Bundle with one "
        "CoverageEligibilityResponse per payer (rights on the planned day, the taux and why, per "
        "device the BR, the AMO and AMC amounts, the estimated reste à charge, the remaining yearly "
        "forfait and renewal allowance, whether an accord préalable is needed). Nothing is consumed. "
        "The same Bundle again replays the answer; its identifier with other content is a 409."
    ),
    response_class=Response,
    responses={
        200: {"description": "The answer Bundle", "content": fhir_content("Bundle")},
        **error_responses(400, 401, 403, 406, 409, 413, 415, 422, 500, 502, 503),
    },
    openapi_extra={
        "requestBody": {"required": True, "content": fhir_content("Bundle")},
        "parameters": [_FORMAT_PARAM],
        "security": [{"bearer": ["system/Claim.write"]}],
    },
)
async def submit_eligibility(request: Request, ctx: ContextDep, caller: SubmitCaller) -> Response:
    in_format = request_format(request.headers.get("content-type"))
    out_format = response_format(
        format_param=request.query_params.get("_format"),
        accept=request.headers.get("accept"),
        default=in_format,
    )
    data = await _read_body(request, ctx.settings.max_body_bytes)
    info = request_info(request)
    now = ctx.clock()

    async def run(work: Callable[[], T]) -> T:
        return await run_in_threadpool(work)

    if ctx.service.eligibility_connected:
        answer = await ctx.service.check_eligibility_connected(
            data, in_format, caller=caller, now=now, run=run, request_id=info.request_id
        )
    else:
        answer = await run_in_threadpool(
            lambda: ctx.service.check_eligibility(
                data, in_format, caller=caller, now=now, request_id=info.request_id
            )
        )
    info.outcome = f"eligibility-{answer.outcome}"
    body = answer.json if out_format is Format.JSON and answer.json else render(answer.resource, out_format)
    return Response(body, headers={**NO_STORE, "content-type": content_type(out_format)})


@router.post(
    "/DeviceRequest/$validate",
    summary="Check a device prescription before it reaches a supplier",
    description=(
        "Body: one DeviceRequest (FHIR R4, JSON or XML), its patient and prescriber contained or "
        "referenced by identifier, optionally a contained Coverage in insurance. Answer: 200 with an "
        "OperationOutcome of errors, warnings and information, each naming its element by FHIRPath "
        "(the code reimbursable on the day, entente préalable, age bounds, quantity and renewal "
        "limits, ALD part, the prescriber's RPPS); 400 only for what cannot be read."
    ),
    response_class=Response,
    responses={
        200: {"description": "The findings", "content": fhir_content("OperationOutcome")},
        **error_responses(400, 401, 403, 406, 413, 415, 500, 503),
    },
    openapi_extra={
        "requestBody": {"required": True, "content": fhir_content("DeviceRequest")},
        "parameters": [_FORMAT_PARAM],
        "security": [{"bearer": ["system/Claim.write"]}],
    },
)
async def validate_prescription(request: Request, ctx: ContextDep, caller: SubmitCaller) -> Response:
    in_format = request_format(request.headers.get("content-type"))
    out_format = response_format(
        format_param=request.query_params.get("_format"),
        accept=request.headers.get("accept"),
        default=in_format,
    )
    data = await _read_body(request, ctx.settings.max_body_bytes)
    today = ctx.clock().astimezone(DAYS_ZONE).date()
    outcome = await run_in_threadpool(lambda: ctx.service.validate_prescription(data, in_format, today=today))
    errors = any(issue.get("severity") in ("error", "fatal") for issue in outcome.get("issue", ()))
    request_info(request).outcome = "prescription-invalid" if errors else "prescription-valid"
    return Response(
        render(outcome, out_format), headers={**NO_STORE, "content-type": content_type(out_format)}
    )
