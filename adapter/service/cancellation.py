"""The cancellation use case: withdraw a decided claim of the caller's tenant.

One store transaction, locked on the claim and its beneficiary, keeps the claim's answer as
a version and answers it again with every ClaimResponse ``cancelled``, reverses what the
claim consumed (delivery records: renewals and caps; the yearly forfait ledger), records who
cancelled it, when and why, audits it and writes a ``claim.cancelled`` outbox event. A second
cancellation replays the first one's answer. With remote payers, each payer is asked to cancel
its own decision first (payer protocol ``*-cancel-request``): when one cannot be reached the
answer is 503 and nothing is reversed, so that the client's retry does it all, once.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import structlog

from adapter.access import Caller
from adapter.errors import CancelError, CancelUnavailable, PayerFault, PayerRefusal
from adapter.intake import CancelRequest, Format, read_cancel_request
from adapter.service.port import Answer, Runner
from adapter.store import StoredSubmission
from mappings.fhir import jsonio
from mappings.outbound import cancelled_answer

if TYPE_CHECKING:
    from adapter.service.claims import StoreService

__all__ = ["CANCELLED", "CANCELLED_TOPIC", "cancel_claim"]

#: The state of a withdrawn claim, and the outbox topic announcing it.
CANCELLED = "cancelled"
CANCELLED_TOPIC = "claim.cancelled"
_log = structlog.get_logger("adapter.service")


async def cancel_claim(
    service: StoreService,
    data: bytes,
    fmt: Format,
    *,
    caller: Caller,
    now: datetime,
    run: Runner,
    request_id: str | None = None,
) -> Answer | None:
    """The cancelled answer of the claim the Parameters body names, or None when the caller's
    tenant submitted no such claim (the API answers 404). Raises ``InputError`` (400/422),
    ``CancelError`` (409) or ``CancelUnavailable`` (503)."""
    flow = service.flow
    wanted = read_cancel_request(data, fmt, flow.limits, flow.canon)
    row = await run(lambda: _find(service, wanted, caller))
    if row is None:
        return None
    if row.state == CANCELLED:
        return _replayed(row)
    _check_decided(row)
    if flow.connected:
        try:
            await flow.cancel_remote(
                row.id, organisme=row.amo_organisme, amc_number=_amc_leg(row), now=now, reason=wanted.reason
            )
        except PayerFault as fault:
            _log.warning("claim.cancel_unavailable", claim=row.id, reason=fault.code)
            retry = 30 if fault.retry_after is None else max(1, int(fault.retry_after))
            raise CancelUnavailable(
                f"a payer could not be reached to cancel Claim/{row.id}: "
                "nothing was cancelled, try again later",
                retry_after=retry,
            ) from None
        except PayerRefusal as refusal:
            raise CancelError(
                f"a payer refused to cancel Claim/{row.id}: {refusal.message}", code="cancel-refused"
            ) from None
    return await run(lambda: _withdraw(service, row, wanted, caller=caller, now=now, request_id=request_id))


def _amc_leg(row: StoredSubmission) -> str | None:
    """The AMC number when the mutuelle decided on the claim (it is not asked when the AMO refused)."""
    return row.amc_number if row.amc_response_id is not None else None


def _find(service: StoreService, wanted: CancelRequest, caller: Caller) -> StoredSubmission | None:
    """The caller's tenant's claim: by its idempotency key, or by its id when the tenant submitted it."""
    with service.store.read() as tx:
        if wanted.identifier is not None:
            return tx.find_submission(caller.client_id, *wanted.identifier)
        row = None if wanted.claim_id is None else tx.submission_by_id(wanted.claim_id)
    return row if row is not None and row.client_id == caller.client_id else None


def _check_decided(row: StoredSubmission) -> None:
    if row.state == "pending":
        raise CancelError(
            f"Claim/{row.id} is still pending with the payers: cancel it once it is decided "
            "(POST /Claim/$inquire tells when)"
        )
    if row.state != "complete":
        raise CancelError(
            f"Claim/{row.id} was never decided by the payers (dead-lettered): requeue it, "
            "then cancel it once decided"
        )


def _replayed(row: StoredSubmission) -> Answer:
    return Answer(
        resource=jsonio.loads(row.response_json), json=row.response_json, replayed=True, outcome=row.outcome
    )


def _withdraw(
    service: StoreService,
    seen: StoredSubmission,
    wanted: CancelRequest,
    *,
    caller: Caller,
    now: datetime,
    request_id: str | None,
) -> Answer:
    locks = (f"claim:{seen.id}", f"beneficiary:{seen.patient_nir}")
    with service.store.write(lock_keys=locks) as tx:
        row = tx.submission_by_id(seen.id)
        if row is None:  # pragma: no cover - submissions are never deleted
            raise CancelError(f"Claim/{seen.id} is gone")
        if row.state == CANCELLED:  # another cancellation got there first
            return _replayed(row)
        _check_decided(row)
        body = jsonio.dumps(cancelled_answer(jsonio.loads(row.response_json), reason=wanted.reason, at=now))
        done = tx.cancel(
            row,
            response_json=body,
            client_id=caller.client_id,
            reason_code=wanted.reason,
            reason_text=wanted.note,
            at=now,
            request_id=request_id,
        )
        if done is None:  # pragma: no cover - the claim's lock keeps other writers out
            raise CancelError(f"Claim/{row.id} changed while it was being cancelled: try again")
        tx.audit(
            action="cancel",
            outcome=wanted.reason,
            client_id=caller.client_id,
            submission_id=row.id,
            request_id=request_id,
            at=now,
        )
        tx.enqueue(
            topic=CANCELLED_TOPIC,
            payload={"submission": row.id, "tenant": row.client_id, "version": done.version},
            at=now,
        )
    _log.info(
        "claim.cancelled",
        claim=row.id,
        reason=wanted.reason,
        deliveries=done.reversed_deliveries,
        ledger_entries=done.reversed_ledger_entries,
    )
    return Answer(resource=jsonio.loads(body), json=body, outcome=row.outcome)
