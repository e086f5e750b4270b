"""Withdrawn claims: the cancellation record, the answer's new version, and the reversal of
what the claim consumed, all in the caller's store transaction (``Tx.cancel``).

What a claim consumed is found by its beneficiary and its submission key (the
``submission`` column of the delivery records and the ledger entries): those rows are marked
``reversed_at``, never deleted, so the history and the ledger stop counting them while the
audit keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from adapter.store.models import (
    CancellationRow,
    DeliveryRow,
    LedgerRow,
    SubmissionRow,
    SubmissionVersionRow,
    table_of,
)
from adapter.store.records import StoredSubmission

__all__ = ["CANCELLED", "Cancellation", "cancel", "cancellation"]

#: The state of a withdrawn submission.
CANCELLED = "cancelled"

_CANCELLATIONS = table_of(CancellationRow)
_C = _CANCELLATIONS.c
_SUBMISSIONS = table_of(SubmissionRow)
_S = _SUBMISSIONS.c
_VERSIONS = table_of(SubmissionVersionRow)
_DELIVERIES = table_of(DeliveryRow)
_LEDGER = table_of(LedgerRow)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cancellation:
    """Who withdrew a claim, when and why (``reason_code`` from the cancel-reason code system),
    the answer version the cancellation made, and how many records it reversed."""

    submission_id: str
    client_id: str
    reason_code: str
    reason_text: str | None
    version: int
    cancelled_at: datetime
    request_id: str | None = None
    reversed_deliveries: int = 0
    reversed_ledger_entries: int = 0


def cancellation(connection: Connection, submission_id: str) -> Cancellation | None:
    """The cancellation of a submission, if it was cancelled."""
    row = connection.execute(select(_CANCELLATIONS).where(_C.submission_id == submission_id)).first()
    if row is None:
        return None
    return Cancellation(
        submission_id=row.submission_id,
        client_id=row.client_id,
        reason_code=row.reason_code,
        reason_text=row.reason_text,
        version=row.version,
        cancelled_at=row.cancelled_at,
        request_id=row.request_id,
    )


def cancel(
    connection: Connection,
    row: StoredSubmission,
    *,
    response_json: bytes,
    client_id: str,
    reason_code: str,
    reason_text: str | None,
    at: datetime,
    request_id: str | None,
) -> Cancellation | None:
    """Withdraw ``row`` as it was read under the claim's lock: keep its answer as a version, make
    ``response_json`` its new answer (state ``cancelled``), reverse its delivery records and
    ledger entries, and record the cancellation. None, changing nothing, when the stored row is
    no longer the version read (another writer got there first)."""
    archived = connection.execute(
        insert(_VERSIONS).from_select(
            ["submission_id", "version", "outcome", "response_json", "stored_at"],
            select(
                _S.id, _S.version, _S.outcome, _S.response_json, func.coalesce(_S.updated_at, _S.stored_at)
            ).where(_S.id == row.id, _S.version == row.version, _S.state != CANCELLED),
        )
    )
    if not archived.rowcount:
        return None
    version = row.version + 1
    connection.execute(
        update(_SUBMISSIONS)
        .where(_S.id == row.id, _S.version == row.version)
        .values(response_json=response_json, state=CANCELLED, version=version, updated_at=at)
    )
    deliveries = _DELIVERIES.c
    reversed_deliveries = connection.execute(
        update(_DELIVERIES)
        .where(
            deliveries.nir == row.patient_nir,
            deliveries.submission == row.key_value,
            deliveries.reversed_at.is_(None),
        )
        .values(reversed_at=at)
    ).rowcount
    ledger = _LEDGER.c
    reversed_entries = connection.execute(
        update(_LEDGER)
        .where(
            ledger.nir == row.patient_nir, ledger.submission == row.key_value, ledger.reversed_at.is_(None)
        )
        .values(reversed_at=at)
    ).rowcount
    record = Cancellation(
        submission_id=row.id,
        client_id=client_id,
        reason_code=reason_code,
        reason_text=reason_text,
        version=version,
        cancelled_at=at,
        request_id=request_id,
        reversed_deliveries=int(reversed_deliveries or 0),
        reversed_ledger_entries=int(reversed_entries or 0),
    )
    connection.execute(
        insert(_CANCELLATIONS).values(
            submission_id=row.id,
            client_id=client_id,
            reason_code=reason_code,
            reason_text=reason_text,
            version=version,
            request_id=request_id,
            cancelled_at=at,
        )
    )
    return record
