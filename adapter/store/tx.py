"""One store transaction and the repositories that work inside it.

A ``Tx`` comes from ``Store.write()`` or ``Store.read()`` and never outlives it. Everything
written through it (submission, delivery records, ledger entries, audit record, outbox
event) commits together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from adapter.errors import UsageError
from adapter.payers.ports import DeliveryHistory, ForfaitLedger
from adapter.store import outbox
from adapter.store.history import DbDeliveryHistory
from adapter.store.ledger import DbForfaitLedger
from adapter.store.models import AuditRow, SubmissionRow
from adapter.store.records import (
    DuplicateSubmissionError,
    NewSubmission,
    OutboxEvent,
    StoredSubmission,
    Visibility,
)

__all__ = ["Tx"]

_FIELDS = tuple(f.name for f in fields(NewSubmission))
MAX_PAGE = 1000


def _stored(row: SubmissionRow) -> StoredSubmission:
    return StoredSubmission(**{name: getattr(row, name) for name in _FIELDS})


def _visible(visibility: Visibility) -> ColumnElement[bool] | None:
    """The SQL filter for a caller's visibility; None when it sees everything."""
    if visibility.everything:
        return None
    allowed: list[ColumnElement[bool]] = [SubmissionRow.client_id == visibility.client_id]
    if visibility.finess:
        allowed.append(SubmissionRow.provider_finess.in_(sorted(visibility.finess)))
    if visibility.siret:
        allowed.append(SubmissionRow.provider_siret.in_(sorted(visibility.siret)))
    if visibility.amc:
        allowed.append(SubmissionRow.amc_number.in_(sorted(visibility.amc)))
    return or_(*allowed)


class Tx:
    """A unit of work: submissions, the payer stores, the audit log and the outbox.

    ``history`` and ``ledger`` implement the reference payers' ports on this transaction,
    so they see its own writes. A ``Tx`` from ``Store.read()`` refuses every write.
    """

    __slots__ = ("_session", "_writable", "history", "ledger")

    history: DeliveryHistory
    ledger: ForfaitLedger

    def __init__(self, session: Session, *, writable: bool) -> None:
        self._session = session
        self._writable = writable
        self.history = DbDeliveryHistory(session, writable=writable)
        self.ledger = DbForfaitLedger(session, writable=writable)

    def _require_writable(self, what: str) -> None:
        if not self._writable:
            raise UsageError(f"{what} needs a transaction from Store.write()")

    # -- submissions --------------------------------------------------------------------

    def find_submission(self, key_system: str, key_value: str) -> StoredSubmission | None:
        """The submission stored under an idempotency key (Bundle.identifier), if any."""
        row = self._session.scalars(
            select(SubmissionRow).where(
                SubmissionRow.key_system == key_system, SubmissionRow.key_value == key_value
            )
        ).one_or_none()
        return None if row is None else _stored(row)

    def add_submission(self, new: NewSubmission) -> StoredSubmission:
        """Store a submission; ``DuplicateSubmissionError`` when its key is already taken.

        The insert runs in a savepoint, so after a duplicate the transaction can go on (to
        read the stored submission and replay it).
        """
        self._require_writable("add_submission")
        values = {name: getattr(new, name) for name in _FIELDS}
        try:
            with self._session.begin_nested():
                self._session.execute(insert(SubmissionRow).values(**values))
        except IntegrityError:
            if self.find_submission(new.key_system, new.key_value) is not None:
                raise DuplicateSubmissionError(new.key_system, new.key_value) from None
            raise
        return StoredSubmission(**values)

    def submission_by_id(self, submission_id: str) -> StoredSubmission | None:
        """The submission with this id (the stored Claim's id)."""
        row = self._session.get(SubmissionRow, submission_id)
        return None if row is None else _stored(row)

    def submission_by_response_id(self, response_id: str) -> StoredSubmission | None:
        """The submission that produced this AMO or AMC ClaimResponse id."""
        row = self._session.scalars(
            select(SubmissionRow).where(
                or_(
                    SubmissionRow.amo_response_id == response_id, SubmissionRow.amc_response_id == response_id
                )
            )
        ).first()
        return None if row is None else _stored(row)

    def search(
        self,
        *,
        visibility: Visibility,
        claim: tuple[str, str] | None = None,
        claim_id: str | None = None,
        patient_nir: str | None = None,
        insurer: str | None = None,
        with_amc: bool | None = None,
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[StoredSubmission], int]:
        """One page of the submissions the caller may see, newest first, and the total.

        ``claim`` matches the Claim's identifier or the submission's Bundle.identifier
        (system, value); ``claim_id`` the stored Claim's id (the submission id); ``insurer``
        the AMO organisme or the AMC number; ``with_amc`` keeps submissions with (True) or without
        (False) an AMC leg. Criteria combine with AND; ``limit=0`` counts only.
        """
        if offset < 0 or not 0 <= limit <= MAX_PAGE:
            raise UsageError(f"search needs offset >= 0 and 0 <= limit <= {MAX_PAGE}")
        conditions: list[ColumnElement[bool]] = []
        visible = _visible(visibility)
        if visible is not None:
            conditions.append(visible)
        if claim is not None:
            system, value = claim
            conditions.append(
                or_(
                    and_(
                        SubmissionRow.claim_identifier_system == system,
                        SubmissionRow.claim_identifier_value == value,
                    ),
                    and_(SubmissionRow.key_system == system, SubmissionRow.key_value == value),
                )
            )
        if claim_id is not None:
            conditions.append(SubmissionRow.id == claim_id)
        if patient_nir is not None:
            conditions.append(SubmissionRow.patient_nir == patient_nir)
        if insurer is not None:
            conditions.append(
                or_(SubmissionRow.amo_organisme == insurer, SubmissionRow.amc_number == insurer)
            )
        if with_amc is not None:
            conditions.append(
                SubmissionRow.amc_number.is_not(None) if with_amc else SubmissionRow.amc_number.is_(None)
            )
        total = self._session.scalar(select(func.count()).select_from(SubmissionRow).where(*conditions)) or 0
        if limit == 0 or offset >= total:
            return [], total
        rows = self._session.scalars(
            select(SubmissionRow)
            .where(*conditions)
            .order_by(SubmissionRow.received_at.desc(), SubmissionRow.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [_stored(row) for row in rows], total

    # -- audit and outbox ---------------------------------------------------------------

    def audit(
        self,
        *,
        action: str,
        outcome: str,
        client_id: str,
        submission_id: str | None,
        request_id: str | None,
        at: datetime,
    ) -> None:
        """Record who did what with which outcome (no payload, no patient data)."""
        self._require_writable("audit")
        self._session.execute(
            insert(AuditRow).values(
                action=action,
                outcome=outcome,
                client_id=client_id,
                submission_id=submission_id,
                request_id=request_id,
                at=at,
            )
        )

    def enqueue(self, *, topic: str, payload: Mapping[str, Any], at: datetime) -> None:
        """Add an outbox event that becomes visible to workers when this transaction commits."""
        self._require_writable("enqueue")
        outbox.enqueue(self._session, topic=topic, payload=payload, at=at)

    def claim_outbox(
        self, worker: str, *, limit: int, now: datetime, lease: timedelta = outbox.DEFAULT_LEASE
    ) -> list[OutboxEvent]:
        """Lease pending events to ``worker`` (see ``adapter.store.outbox``)."""
        self._require_writable("claim_outbox")
        return outbox.claim(self._session, worker, limit=limit, now=now, lease=lease)

    def complete(self, event_id: int, now: datetime) -> bool:
        """Mark an outbox event published; False when unknown or already completed."""
        self._require_writable("complete")
        return outbox.complete(self._session, event_id, now)
