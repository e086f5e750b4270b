"""``POST /Claim/$submit``, ``POST /Claim/$inquire``, ``GET /Claim/{id}/$answer`` and
``POST /Claim/{id}/$requeue`` (the reads of the Claim and its Bundle are in ``routes_reads``).

The body is read by hand rather than declared to FastAPI: it is FHIR JSON *or* XML, must be
passed to the service as the exact bytes received, and must stream under the size limit.
The OpenAPI description is written out in ``openapi_extra`` so that it still tells the truth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from adapter.access import Caller
from adapter.api.deps import AppContext, ContextDep, ReadCaller, SubmitCaller, request_info
from adapter.api.metrics import submission_outcome
from adapter.api.middleware import PayloadTooLarge
from adapter.api.negotiation import (
    content_type,
    fhir_content,
    render,
    request_format,
    response_format,
)
from adapter.api.outcomes import NotFound, error_responses
from adapter.errors import AdapterError, ConflictError
from adapter.intake import Format
from adapter.service import Answer, Requeue
from mappings.outbound import all_ok

__all__ = ["NO_STORE", "read_body", "router"]

#: Answers carry health data: no shared or browser cache may keep them.
NO_STORE = {"Cache-Control": "no-store"}
_FORMAT_PARAM = {"$ref": "#/components/parameters/_format"}

router = APIRouter()


class NotDead(AdapterError):
    """A requeue of a claim that is not dead-lettered (HTTP 409): complete, or already pending."""

    code = "claim-not-dead"
    http_status = 409


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, read chunk by chunk; the middleware stops it at the limit as it streams."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # also enforced upstream; kept so the route is safe on its own
            raise PayloadTooLarge(f"the body exceeds the maximum of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


read_body = _read_body  # the other Claim operations read their bodies the same way

T = TypeVar("T")


@router.post(
    "/Claim/$submit",
    summary="Submit a claim for adjudication",
    description=(
        "Body: a collection Bundle whose first entry is the Claim (FHIR R4, JSON or XML). "
        "Answer: a collection Bundle with the AMO ClaimResponse, the AMC ClaimResponse when there "
        "is a complementary leg, and an OperationOutcome when there are warnings. Resubmitting the "
        "same Bundle.identifier with the same content replays the stored answer."
    ),
    response_class=Response,
    responses={
        200: {"description": "The response Bundle", "content": fhir_content("Bundle")},
        **error_responses(400, 401, 403, 406, 409, 413, 415, 422, 500, 503),
    },
    openapi_extra={
        "requestBody": {"required": True, "content": fhir_content("Bundle")},
        "parameters": [_FORMAT_PARAM],
        "security": [{"bearer": ["system/Claim.write"]}],
    },
)
async def submit(request: Request, ctx: ContextDep, caller: SubmitCaller) -> Response:
    data, in_format, out_format = await _bundle_body(request, ctx)
    info = request_info(request)
    start = ctx.timer()
    try:
        answer = await _submit(ctx, data, in_format, caller, info.request_id)
    except Exception as exc:
        ctx.metrics.observe_submission(_failed_outcome(exc))
        raise
    finally:
        ctx.metrics.adjudication_seconds.observe(ctx.timer() - start)
    outcome = submission_outcome(answer)
    ctx.metrics.observe_submission(outcome)
    info.outcome = outcome
    body = answer.json if out_format is Format.JSON and answer.json else render(answer.resource, out_format)
    return Response(body, headers={**NO_STORE, "content-type": content_type(out_format)})


async def _bundle_body(request: Request, ctx: AppContext) -> tuple[bytes, Format, Format]:
    """A Bundle body within the size limit, its format, and the format of the answer: the
    ``_format`` parameter, else ``Accept``, else the body's own."""
    in_format = request_format(request.headers.get("content-type"))
    out_format = response_format(
        format_param=request.query_params.get("_format"),
        accept=request.headers.get("accept"),
        default=in_format,
    )
    return await _read_body(request, ctx.settings.max_body_bytes), in_format, out_format


async def _submit(
    ctx: AppContext, data: bytes, fmt: Format, caller: Caller, request_id: str | None
) -> Answer:
    """The submit, its blocking parts on a worker thread, at most ``submit_concurrency`` at once
    in this process.

    Submits are CPU-bound Python: more of them at once than the process has a use for only
    share the GIL, and on SQLite one of them may hold the database's write lock while it waits
    for the GIL. The waiting ones queue here, on the event loop, at no cost. A connected submit
    waits for the remote payers outside that limit: waiting costs no CPU.
    """

    async def run(work: Callable[[], T]) -> T:
        slots = ctx.submit_slots
        if slots is None:
            return await run_in_threadpool(work)
        async with slots:
            return await run_in_threadpool(work)

    now = ctx.clock()
    if ctx.service.connected:
        return await ctx.service.submit_connected(
            data, fmt, caller=caller, now=now, run=run, request_id=request_id
        )
    return await run(lambda: ctx.service.submit(data, fmt, caller=caller, now=now, request_id=request_id))


@router.post(
    "/Claim/$inquire",
    summary="Ask after a submitted claim",
    description=(
        "The current answer to a claim this client submitted, named by the Bundle.identifier of "
        "the Bundle sent (the submitted Bundle itself will do): the final ClaimResponses once the "
        "payers decided, the queued ones until then (the Da Vinci PAS $inquire). 404 when this "
        "client submitted no such claim."
    ),
    response_class=Response,
    responses={
        200: {"description": "The current answer Bundle", "content": fhir_content("Bundle")},
        **error_responses(400, 401, 403, 404, 406, 413, 415, 422, 500, 503),
    },
    openapi_extra={
        "requestBody": {"required": True, "content": fhir_content("Bundle")},
        "parameters": [_FORMAT_PARAM],
        "security": [{"bearer": ["system/Claim.write"]}],
    },
)
async def inquire(request: Request, ctx: ContextDep, caller: SubmitCaller) -> Response:
    data, in_format, out_format = await _bundle_body(request, ctx)
    answer = await run_in_threadpool(ctx.service.inquire, data, in_format, caller=caller)
    if answer is None:
        raise NotFound("this client submitted no claim under that Bundle.identifier")
    body = answer.json if out_format is Format.JSON and answer.json else render(answer.resource, out_format)
    return Response(body, headers={**NO_STORE, "content-type": content_type(out_format)})


@router.get(
    "/Claim/{resource_id}/$answer",
    summary="Read a claim's current answer",
    description=(
        "The collection Bundle the claim is answered with now: the AMO ClaimResponse, the AMC one, and "
        "the OperationOutcome of its warnings; the $submit answer, or the worker's once it completed "
        "a queued claim."
    ),
    response_class=Response,
    responses={
        200: {"description": "The answer Bundle", "content": fhir_content("Bundle")},
        **error_responses(401, 403, 404, 406, 500, 503),
    },
    openapi_extra={"parameters": [_FORMAT_PARAM], "security": [{"bearer": ["system/ClaimResponse.read"]}]},
)
async def read_answer(resource_id: str, request: Request, ctx: ContextDep, caller: ReadCaller) -> Response:
    out_format = response_format(
        format_param=request.query_params.get("_format"),
        accept=request.headers.get("accept"),
        default=Format.JSON,
    )
    answer = await run_in_threadpool(ctx.service.claim_answer, resource_id, caller=caller)
    if answer is None:
        raise NotFound(f"Claim/{resource_id} is not known to this client")
    body = answer.json if out_format is Format.JSON and answer.json else render(answer.resource, out_format)
    return Response(body, headers={**NO_STORE, "content-type": content_type(out_format)})


@router.post(
    "/Claim/{resource_id}/$requeue",
    summary="Ask the payers again for a dead-lettered claim",
    description=(
        "Connected mode: a claim whose remote payers never answered (state dead) becomes pending "
        "again and the worker asks the payers once more, with the same keys. Needs "
        "system/Claim.write and a client that may read the claim (404 otherwise); 409 when the "
        "claim is not dead."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "An informational OperationOutcome: the claim is pending again",
            "content": fhir_content("OperationOutcome"),
        },
        **error_responses(401, 403, 404, 406, 409, 500, 503),
    },
    openapi_extra={"parameters": [_FORMAT_PARAM], "security": [{"bearer": ["system/Claim.write"]}]},
)
async def requeue(resource_id: str, request: Request, ctx: ContextDep, caller: SubmitCaller) -> Response:
    out_format = response_format(
        format_param=request.query_params.get("_format"),
        accept=request.headers.get("accept"),
        default=Format.JSON,
    )
    done = await run_in_threadpool(ctx.service.requeue_claim, resource_id, caller=caller, now=ctx.clock())
    if done is Requeue.NOT_FOUND:
        raise NotFound(f"Claim/{resource_id} is not known to this client")
    if done is Requeue.NOT_DEAD:
        raise NotDead(f"Claim/{resource_id} is not dead-lettered: there is nothing to requeue")
    request_info(request).outcome = "requeued"
    body = render(all_ok(f"Claim/{resource_id} is pending again"), out_format)
    return Response(body, headers={**NO_STORE, "content-type": content_type(out_format)})


def _failed_outcome(exc: Exception) -> str:
    """The submission metric label of a call that raised: a refusal (4xx), a conflict or a fault."""
    if isinstance(exc, ConflictError):
        return "conflict"
    status = getattr(exc, "http_status", None)
    return "refused" if isinstance(status, int) and 400 <= status < 500 else "failed"
