"""One store transaction and the repositories that work inside it.

A ``Tx`` comes from ``Store.write()`` or ``Store.read()`` and never outlives it. Everything
written through it (submission, delivery records, ledger entries, audit record, outbox
event) commits together or not at all. The fixed statements run through
``adapter.store.prepared``: writes nobody waits for are queued and travel with the next
statement that needs an answer, or with the commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    update,
)

from adapter.access import READ_GRANTS, Caller
from adapter.domain.values import Nir
from adapter.errors import UsageError
from adapter.store import cancellations, eligibility, outbox
from adapter.store.cancellations import Cancellation
from adapter.store.deliveries import DbDeliveryHistory
from adapter.store.forfaits import DbForfaitLedger
from adapter.store.models import AuditRow, SubmissionRow, SubmissionVersionRow, table_of
from adapter.store.prepared import Prepared, StatementQueue
from adapter.store.records import NewSubmission, OutboxEvent, StoredSubmission

__all__ = ["SORTS", "Tx", "readable_by"]

_FIELDS = tuple(f.name for f in fields(NewSubmission))
MAX_PAGE = 1000

# Statements are built once: SQLAlchemy then reuses their compiled form on every execution.
_SUBMISSIONS = table_of(SubmissionRow)
_S = _SUBMISSIONS.c
_VERSIONS = table_of(SubmissionVersionRow)
_V = _VERSIONS.c
_ROW = select(*(_S[name] for name in _FIELDS))
_BY_KEY = Prepared(
    _ROW.where(
        _S.client_id == bindparam("client_id"),
        _S.key_system == bindparam("key_system"),
        _S.key_value == bindparam("key_value"),
    )
)
_BY_ID = Prepared(_ROW.where(_S.id == bindparam("id")))
_BY_RESPONSE_ID = Prepared(
    _ROW.where(
        or_(_S.amo_response_id == bindparam("response_id"), _S.amc_response_id == bindparam("response_id"))
    ).limit(1)
)
_INSERT_SUBMISSION = Prepared(insert(_SUBMISSIONS), _FIELDS)
_AUDIT_COLUMNS = ("action", "outcome", "client_id", "submission_id", "request_id", "at")
_INSERT_AUDIT = Prepared(insert(table_of(AuditRow)), _AUDIT_COLUMNS)


#: The orders a search may ask for (``-``: descending): the reception time (a ClaimResponse's
#: ``created``, a Claim's) or the time the current answer was stored (``_lastUpdated``).
SORTS = ("-received", "received", "-updated", "updated")


def _order(sort: str) -> tuple[ColumnElement[Any], ...]:
    if sort not in SORTS:
        raise UsageError(f"search sort must be one of {', '.join(SORTS)}")
    column = _S.received_at if sort.endswith("received") else func.coalesce(_S.updated_at, _S.stored_at)
    if sort.startswith("-"):
        return column.desc(), _S.id.desc()
    return column.asc(), _S.id.asc()


def _stored(row: Row[Any] | tuple[Any, ...]) -> StoredSubmission:
    return StoredSubmission(**dict(zip(_FIELDS, row, strict=True)))


def readable_by(caller: Caller) -> ColumnElement[bool] | None:
    """``adapter.access.READ_GRANTS`` as SQL: the submissions ``caller`` may read (None: all)."""
    if caller.everything:
        return None
    allowed: list[ColumnElement[bool]] = []
    for grant in READ_GRANTS:
        column, wanted = _S[grant.column], getattr(caller, grant.attribute)
        if grant.match == "equal":
            allowed.append(column == wanted)
        elif wanted:
            allowed.append(column.in_(sorted(wanted)))
    return or_(*allowed)


class Tx:
    """A unit of work: submissions, the payer stores, the audit log and the outbox.

    ``history`` and ``ledger`` implement the reference payers' ports on this transaction,
    so they see its own writes. A ``Tx`` from ``Store.read()`` refuses every write.
    """

    __slots__ = ("_connection", "_writable", "history", "ledger", "queue")

    history: DbDeliveryHistory
    ledger: DbForfaitLedger

    def __init__(self, connection: Connection, *, writable: bool, begin: str | None = None) -> None:
        self._connection = connection
        self._writable = writable
        # A PostgreSQL read commits with each batch: one round trip per read (see StatementQueue).
        self.queue = StatementQueue(connection, begin=begin, commit_each=begin is not None and not writable)
        self.history = DbDeliveryHistory(self.queue, writable=writable)
        self.ledger = DbForfaitLedger(self.queue, writable=writable)

    def _require_writable(self, what: str) -> None:
        if not self._writable:
            raise UsageError(f"{what} needs a transaction from Store.write()")

    def preload_beneficiary(self, nir: Nir) -> None:
        """Ask for ``nir``'s delivery history and ledger now: they travel with the next read."""
        self.history.preload(nir)
        self.ledger.preload(nir)

    # -- submissions --------------------------------------------------------------------

    def find_submission(self, client_id: str, key_system: str, key_value: str) -> StoredSubmission | None:
        """The submission ``client_id`` stored under an idempotency key (Bundle.identifier), if any:
        the key is the submitting tenant's, so another tenant's use of it is not seen here."""
        rows = self.queue.fetch(
            _BY_KEY, {"client_id": client_id, "key_system": key_system, "key_value": key_value}
        )
        return _stored(rows[0]) if rows else None

    def insert_submission(self, new: NewSubmission) -> None:
        """Queue a submission's INSERT to go with the COMMIT. The caller holds the key's lock (or
        SQLite's write lock) and found the key free; should it be taken after all, the commit
        fails with ``StoreConflict`` and nothing of the transaction is stored."""
        self._require_writable("insert_submission")
        self.queue.write(_INSERT_SUBMISSION, [{name: getattr(new, name) for name in _FIELDS}])

    def submission_by_id(self, submission_id: str) -> StoredSubmission | None:
        """The submission with this id (the stored Claim's id)."""
        rows = self.queue.fetch(_BY_ID, {"id": submission_id})
        return _stored(rows[0]) if rows else None

    def submission_by_response_id(self, response_id: str) -> StoredSubmission | None:
        """The submission that produced this AMO or AMC ClaimResponse id."""
        rows = self.queue.fetch(_BY_RESPONSE_ID, {"response_id": response_id})
        return _stored(rows[0]) if rows else None

    def _conditions(
        self,
        *,
        caller: Caller,
        claim: tuple[str, str] | None = None,
        claim_identifier: tuple[str | None, str] | None = None,
        claim_id: str | None = None,
        patient_nir: str | None = None,
        insurer: str | None = None,
        with_amc: bool | None = None,
        outcome: str | None = None,
        state: str | None = None,
        received_from: datetime | None = None,
        received_before: datetime | None = None,
    ) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        visible = readable_by(caller)
        if visible is not None:
            conditions.append(visible)
        if claim is not None:
            system, value = claim
            conditions.append(
                or_(
                    and_(_S.claim_identifier_system == system, _S.claim_identifier_value == value),
                    and_(_S.key_system == system, _S.key_value == value),
                )
            )
        if claim_identifier is not None:
            system_or_none, value = claim_identifier
            if system_or_none is None:  # any system
                conditions.append(or_(_S.claim_identifier_value == value, _S.key_value == value))
            elif system_or_none:
                conditions.append(
                    or_(
                        and_(
                            _S.claim_identifier_system == system_or_none, _S.claim_identifier_value == value
                        ),
                        and_(_S.key_system == system_or_none, _S.key_value == value),
                    )
                )
            else:  # no system (a Bundle.identifier always has one)
                conditions.append(
                    and_(_S.claim_identifier_system.is_(None), _S.claim_identifier_value == value)
                )
        if claim_id is not None:
            conditions.append(_S.id == claim_id)
        if patient_nir is not None:
            conditions.append(_S.patient_nir == patient_nir)
        if insurer is not None:
            conditions.append(or_(_S.amo_organisme == insurer, _S.amc_number == insurer))
        if with_amc is not None:
            conditions.append(_S.amc_number.is_not(None) if with_amc else _S.amc_number.is_(None))
        if outcome is not None:
            conditions.append(_S.outcome == outcome)
        if state is not None:
            conditions.append(_S.state == state)
        if received_from is not None:
            conditions.append(_S.received_at >= received_from)
        if received_before is not None:
            conditions.append(_S.received_at < received_before)
        return conditions

    def search(
        self,
        *,
        caller: Caller,
        claim: tuple[str, str] | None = None,
        claim_identifier: tuple[str | None, str] | None = None,
        claim_id: str | None = None,
        patient_nir: str | None = None,
        insurer: str | None = None,
        with_amc: bool | None = None,
        outcome: str | None = None,
        state: str | None = None,
        received_from: datetime | None = None,
        received_before: datetime | None = None,
        sort: str = "-received",
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[StoredSubmission], int]:
        """One page of the submissions ``caller`` may read (newest first unless ``sort`` says
        otherwise: one of ``SORTS``), and the total.

        ``claim`` matches the Claim's identifier or the submission's Bundle.identifier
        (system, value); ``claim_identifier`` the same as a token (system, value; a None
        system: any, an empty one: none); ``claim_id`` the stored Claim's id (the
        submission id); ``insurer`` the AMO organisme or the AMC number; ``with_amc`` keeps
        submissions with (True) or without (False) an AMC leg; ``outcome`` the stored outcome
        (``complete``, ``partial``, ``error``, ``queued``); ``state`` the state (``complete``,
        ``pending``, ``dead``); ``received_from`` (inclusive) and ``received_before``
        (exclusive) bound the reception time. Criteria combine with AND; ``limit=0`` counts only.
        """
        if offset < 0 or not 0 <= limit <= MAX_PAGE:
            raise UsageError(f"search needs offset >= 0 and 0 <= limit <= {MAX_PAGE}")
        order = _order(sort)
        conditions = self._conditions(
            caller=caller,
            claim=claim,
            claim_identifier=claim_identifier,
            claim_id=claim_id,
            patient_nir=patient_nir,
            insurer=insurer,
            with_amc=with_amc,
            outcome=outcome,
            state=state,
            received_from=received_from,
            received_before=received_before,
        )
        counted = select(func.count()).select_from(_SUBMISSIONS).where(*conditions)
        self.queue.send()
        total = self._connection.execute(counted).scalar() or 0
        if limit == 0 or offset >= total:
            return [], total
        rows = self._connection.execute(_ROW.where(*conditions).order_by(*order).offset(offset).limit(limit))
        return [_stored(row) for row in rows], total

    def search_responses(
        self,
        *,
        caller: Caller,
        claim: tuple[str, str] | None = None,
        claim_id: str | None = None,
        patient_nir: str | None = None,
        insurer: str | None = None,
        outcome: str | None = None,
        state: str | None = None,
        received_from: datetime | None = None,
        received_before: datetime | None = None,
        sort: str = "-received",
        offset: int = 0,
        limit: int = 20,
    ) -> tuple[list[tuple[StoredSubmission, int]], int]:
        """A page of ClaimResponses, counted one by one: the submissions holding the matches at
        positions ``offset`` to ``offset + limit`` (each with the position of its first match),
        and the total number of matching ClaimResponses.

        A submission answers one ClaimResponse per payer (AMO, then AMC when there is an AMC
        leg); with ``insurer`` only the payer's own match. A running sum of the matches per
        submission, in the search's order, finds the page's submissions in SQL, so that a page
        holds at most ``limit`` ClaimResponses whichever submissions they belong to.
        """
        if offset < 0 or not 0 <= limit <= MAX_PAGE:
            raise UsageError(f"search needs offset >= 0 and 0 <= limit <= {MAX_PAGE}")
        order = _order(sort)
        conditions = self._conditions(
            caller=caller,
            claim=claim,
            claim_id=claim_id,
            patient_nir=patient_nir,
            insurer=insurer,
            outcome=outcome,
            state=state,
            received_from=received_from,
            received_before=received_before,
        )
        if insurer is None:
            matches: ColumnElement[int] = case((_S.amc_number.is_(None), 1), else_=2)
        else:
            matches = case((_S.amo_organisme == insurer, 1), else_=0) + case(
                (_S.amc_number == insurer, 1), else_=0
            )
        self.queue.send()
        counted = select(func.coalesce(func.sum(matches), 0)).select_from(_SUBMISSIONS).where(*conditions)
        total = int(self._connection.execute(counted).scalar() or 0)
        if limit == 0 or offset >= total:
            return [], total
        ranked = select(
            *(_S[name] for name in _FIELDS),
            matches.label("matches"),
            func.sum(matches).over(order_by=order).label("running"),
        ).where(*conditions)
        window = ranked.subquery("ranked")
        running, count = window.c.running, window.c.matches
        rows = self._connection.execute(
            select(*(window.c[name] for name in _FIELDS), (running - count).label("page_start"))
            .where(running > offset, running - count < offset + limit)
            .order_by(running)
        )
        page = [(_stored(tuple(row)[: len(_FIELDS)]), int(row.page_start)) for row in rows]
        return page, total

    def purge_bodies(self, *, received_before: datetime, now: datetime) -> int:
        """Empty the body (``raw``) and the request (``request_json``) of every submission received
        before ``received_before``; the number of submissions purged. Kept: the key, the content
        hash, the ids, the organisation columns, the decisions and the exact answer, so that a
        replay still answers byte for byte and a reused key with other content is still a 409."""
        self._require_writable("purge_bodies")
        self.queue.send()
        result = self._connection.execute(
            update(_SUBMISSIONS)
            .where(_S.received_at < received_before, _S.purged_at.is_(None))
            .values(raw=None, request_json=None, purged_at=now)
        )
        return int(result.rowcount or 0)

    # -- pended claims: new versions, history, dead letters --------------------------------

    def replace_answer(self, new: NewSubmission, *, version: int, at: datetime) -> bool:
        """Make ``new`` (same id) the submission's answer, as version ``version + 1``, keeping the
        answer it had as version ``version`` in ``submission_versions``. False, changing nothing,
        when the stored version is no longer ``version`` (another worker got there first)."""
        self._require_writable("replace_answer")
        self.queue.send()
        archived = self._connection.execute(
            insert(_VERSIONS).from_select(
                ["submission_id", "version", "outcome", "response_json", "stored_at"],
                select(
                    _S.id,
                    _S.version,
                    _S.outcome,
                    _S.response_json,
                    func.coalesce(_S.updated_at, _S.stored_at),
                ).where(_S.id == new.id, _S.version == version),
            )
        )
        if not archived.rowcount:
            return False
        self._connection.execute(
            update(_SUBMISSIONS)
            .where(_S.id == new.id, _S.version == version)
            .values(
                amo_decision_json=new.amo_decision_json,
                amc_decision_json=new.amc_decision_json,
                findings_json=new.findings_json,
                response_json=new.response_json,
                amo_response_id=new.amo_response_id,
                amc_response_id=new.amc_response_id,
                outcome=new.outcome,
                state=new.state,
                dead_reason=new.dead_reason,
                version=version + 1,
                updated_at=at,
            )
        )
        return True

    def requeue(self, submission_id: str, *, at: datetime) -> bool:
        """Make a dead-lettered submission pending again; False when it is not dead."""
        self._require_writable("requeue")
        self.queue.send()
        result = self._connection.execute(
            update(_SUBMISSIONS)
            .where(_S.id == submission_id, _S.state == "dead")
            .values(state="pending", dead_reason=None, updated_at=at)
        )
        return bool(result.rowcount)

    def answer_versions(self, submission_id: str) -> list[tuple[int, str, bytes, datetime]]:
        """A submission's earlier answers: (version, outcome, response bytes, stored at), oldest first."""
        self.queue.send()
        rows = self._connection.execute(
            select(_V.version, _V.outcome, _V.response_json, _V.stored_at)
            .where(_V.submission_id == submission_id)
            .order_by(_V.version)
        )
        return [(row.version, row.outcome, row.response_json, row.stored_at) for row in rows]

    def submissions_in_state(self, state: str, *, caller: Caller, limit: int = 100) -> list[StoredSubmission]:
        """The submissions ``caller`` may read that are in ``state`` (``pending``, ``dead``), oldest first."""
        if not 0 < limit <= MAX_PAGE:
            raise UsageError(f"submissions_in_state needs 0 < limit <= {MAX_PAGE}")
        conditions: list[ColumnElement[bool]] = [_S.state == state]
        visible = readable_by(caller)
        if visible is not None:
            conditions.append(visible)
        self.queue.send()
        rows = self._connection.execute(_ROW.where(*conditions).order_by(_S.received_at, _S.id).limit(limit))
        return [_stored(row) for row in rows]

    # -- cancellations --------------------------------------------------------------------

    def cancellation(self, submission_id: str) -> Cancellation | None:
        """The cancellation of a submission, if it was withdrawn."""
        self.queue.send()
        return cancellations.cancellation(self._connection, submission_id)

    def cancel(
        self,
        row: StoredSubmission,
        *,
        response_json: bytes,
        client_id: str,
        reason_code: str,
        reason_text: str | None,
        at: datetime,
        request_id: str | None = None,
    ) -> Cancellation | None:
        """Withdraw ``row`` (read under the claim's lock): its answer becomes ``response_json`` as a
        new version, state ``cancelled``; its delivery records and ledger entries stop counting;
        the cancellation is recorded. None when the row changed since it was read."""
        self._require_writable("cancel")
        self.queue.send()
        done = cancellations.cancel(
            self._connection,
            row,
            response_json=response_json,
            client_id=client_id,
            reason_code=reason_code,
            reason_text=reason_text,
            at=at,
            request_id=request_id,
        )
        if done is not None:
            self.history.forget()
            self.ledger.forget()
        return done

    # -- eligibility checks -------------------------------------------------------------

    def find_eligibility(
        self, client_id: str, key_system: str, key_value: str
    ) -> eligibility.EligibilityCheck | None:
        """The eligibility question ``client_id`` asked under this Bundle.identifier, if any."""
        self.queue.send()
        row = self._connection.execute(
            eligibility.BY_KEY, {"client_id": client_id, "key_system": key_system, "key_value": key_value}
        ).first()
        return (
            None
            if row is None
            else eligibility.EligibilityCheck(**dict(zip(eligibility.FIELDS, row, strict=True)))
        )

    def insert_eligibility(self, check: eligibility.EligibilityCheck) -> None:
        """Store an answered question (the key taken meanwhile: ``StoreConflict`` at the commit)."""
        self._require_writable("insert_eligibility")
        self.queue.send()
        self._connection.execute(
            eligibility.INSERT, [{name: getattr(check, name) for name in eligibility.FIELDS}]
        )

    def eligibility_checks(self, client_id: str) -> list[eligibility.EligibilityCheck]:
        """A tenant's answered questions, oldest first: its audit trail of eligibility checks."""
        self.queue.send()
        rows = self._connection.execute(eligibility.BY_CLIENT, {"client_id": client_id})
        return [
            eligibility.EligibilityCheck(**dict(zip(eligibility.FIELDS, row, strict=True))) for row in rows
        ]

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
        self.queue.write(
            _INSERT_AUDIT,
            [
                {
                    "action": action,
                    "outcome": outcome,
                    "client_id": client_id,
                    "submission_id": submission_id,
                    "request_id": request_id,
                    "at": at,
                }
            ],
        )

    def enqueue(self, *, topic: str, payload: Mapping[str, Any], at: datetime) -> None:
        """Add an outbox event that becomes visible to workers when this transaction commits."""
        self._require_writable("enqueue")
        self.queue.write(outbox.INSERT, [outbox.row(topic=topic, payload=payload, at=at)])

    def claim_outbox(
        self, worker: str, *, limit: int, now: datetime, lease: timedelta = outbox.DEFAULT_LEASE
    ) -> list[OutboxEvent]:
        """Lease pending events to ``worker`` (see ``adapter.store.outbox``)."""
        self._require_writable("claim_outbox")
        self.queue.send()
        return outbox.claim(self._connection, worker, limit=limit, now=now, lease=lease)

    def complete(self, event_id: int, now: datetime) -> bool:
        """Mark an outbox event published; False when unknown or already completed."""
        self._require_writable("complete")
        self.queue.send()
        return outbox.complete(self._connection, event_id, now)

    def prune_outbox(self, *, completed_before: datetime) -> int:
        """Delete the events completed before ``completed_before``; how many were deleted."""
        self._require_writable("prune_outbox")
        self.queue.send()
        return outbox.prune(self._connection, completed_before)
