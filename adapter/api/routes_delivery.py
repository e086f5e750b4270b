"""``GET /$deliveries`` and ``POST /$deliveries/{id}/$requeue``: the operators' view of what the
dispatcher pushes out (docs/delivery.md).

Deliveries are listed for the claims the caller may read (the read rule of ``adapter.access``,
as for ``GET /ClaimResponse?state=dead``): an operator's client reads everything; a tenant sees
the deliveries of its own claims. A dead delivery is sent again on ``$requeue``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from adapter.api.deps import ContextDep, ReadCaller, SubmitCaller, request_info
from adapter.api.negotiation import content_type, fhir_content, render, response_format
from adapter.api.outcomes import NotFound, error_responses
from adapter.errors import AdapterError, InputError, Issue
from adapter.intake import Format
from adapter.service import DeliveryInfo, Requeue
from mappings.outbound import all_ok

__all__ = ["router"]

STATES = ("pending", "delivered", "dead")
DEFAULT_COUNT = 100
MAX_COUNT = 1000
_KNOWN = ("state", "destination", "claim", "_count")
_NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter()


class DeliverySearchError(InputError):
    """A ``$deliveries`` query this server does not understand (HTTP 400)."""

    http_status = 400


class NotDeadDelivery(AdapterError):
    """A requeue of a delivery that is not dead (HTTP 409): delivered, or still pending."""

    code = "delivery-not-dead"
    http_status = 409


def _view(delivery: DeliveryInfo) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "event": delivery.event_id,
        "type": delivery.event_type,
        "claim": delivery.claim_id,
        "destination": delivery.destination,
        "target": delivery.target,
        "state": delivery.state,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "created": delivery.created_at.isoformat(),
        "updated": delivery.updated_at.isoformat(),
        "delivered": None if delivery.delivered_at is None else delivery.delivered_at.isoformat(),
    }


def _query(request: Request) -> dict[str, Any]:
    issues: list[Issue] = []
    values: dict[str, str] = {}
    for name in dict.fromkeys(request.query_params.keys()):
        given = [value for value in request.query_params.getlist(name) if value != ""]
        if name not in _KNOWN:
            issues.append(
                Issue(
                    code="search-parameter",
                    message=f"unknown parameter {name!r}; supported: {', '.join(_KNOWN)}",
                )
            )
        elif len(given) > 1:
            issues.append(Issue(code="search-parameter", message=f"{name} may be given once only"))
        elif given:
            values[name] = given[0]
    if "state" in values and values["state"] not in STATES:
        issues.append(Issue(code="search-parameter", message=f"state must be one of {', '.join(STATES)}"))
    count = DEFAULT_COUNT
    if "_count" in values:
        raw = values["_count"]
        if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= MAX_COUNT:
            issues.append(
                Issue(code="search-parameter", message=f"_count must be an integer from 1 to {MAX_COUNT}")
            )
        else:
            count = int(raw)
    if issues:
        raise DeliverySearchError(issues)
    return {
        "state": values.get("state"),
        "destination": values.get("destination"),
        "claim_id": values.get("claim"),
        "limit": count,
    }


@router.get(
    "/$deliveries",
    summary="List the deliveries to the mutuelles and the event stream",
    description=(
        "The deliveries of the claims the caller may read, oldest first: each event's destination "
        "(mutuelle, events), target (the route's or the exchange's name), state (pending, delivered, "
        "dead), attempts and last error. Filters: state, destination, claim (the stored Claim's id); "
        f"_count (1 to {MAX_COUNT}, default {DEFAULT_COUNT})."
    ),
    responses={
        200: {
            "description": "The deliveries: {total, deliveries: [...]}",
            "content": {"application/json": {}},
        },
        **error_responses(400, 401, 403, 500, 503),
    },
    openapi_extra={
        "parameters": [
            {
                "name": "state",
                "in": "query",
                # an empty value is ignored, so the description allows it
                "schema": {"type": "string", "pattern": f"^(?:{'|'.join(STATES)})?$"},
            },
            {"name": "destination", "in": "query", "schema": {"type": "string"}},
            {"name": "claim", "in": "query", "schema": {"type": "string"}},
            {
                "name": "_count",
                "in": "query",
                # an empty value is ignored, as for state: 1 to 1000 or nothing
                "schema": {"type": "string", "pattern": "^(?:[1-9][0-9]{0,2}|1000)?$"},
            },
        ],
        "security": [{"bearer": ["system/ClaimResponse.read"]}],
    },
)
async def deliveries(request: Request, ctx: ContextDep, caller: ReadCaller) -> Response:
    arguments = _query(request)
    found = await run_in_threadpool(lambda: ctx.service.deliveries(caller=caller, **arguments))
    return JSONResponse({"total": len(found), "deliveries": [_view(d) for d in found]}, headers=_NO_STORE)


@router.post(
    "/$deliveries/{delivery_id}/$requeue",
    summary="Send a dead delivery again",
    description=(
        "A delivery in the dead letters (refused by its receiver, or out of attempts) becomes pending "
        "again, with a fresh count of attempts, and the worker sends it with the same event id. Needs "
        "system/Claim.write and a client that may read its claim (404 otherwise); 409 when it is not dead."
    ),
    response_class=Response,
    responses={
        200: {
            "description": "An informational OperationOutcome: the delivery is pending again",
            "content": fhir_content("OperationOutcome"),
        },
        **error_responses(401, 403, 404, 406, 409, 500, 503),
    },
    openapi_extra={"security": [{"bearer": ["system/Claim.write"]}]},
)
async def requeue_delivery(
    delivery_id: str, request: Request, ctx: ContextDep, caller: SubmitCaller
) -> Response:
    out_format = response_format(
        format_param=request.query_params.get("_format"),
        accept=request.headers.get("accept"),
        default=Format.JSON,
    )
    if not delivery_id.isascii() or not delivery_id.isdigit() or len(delivery_id) > 18:
        raise NotFound(f"delivery {delivery_id} is not known to this client")
    done = await run_in_threadpool(
        ctx.service.requeue_delivery, int(delivery_id), caller=caller, now=ctx.clock()
    )
    if done is Requeue.NOT_FOUND:
        raise NotFound(f"delivery {delivery_id} is not known to this client")
    if done is Requeue.NOT_DEAD:
        raise NotDeadDelivery(
            f"delivery {delivery_id} is not in the dead letters: there is nothing to requeue"
        )
    request_info(request).outcome = "requeued"
    body = render(all_ok(f"delivery {delivery_id} is pending again"), out_format)
    return Response(body, headers={**_NO_STORE, "content-type": content_type(out_format)})
