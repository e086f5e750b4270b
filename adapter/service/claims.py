"""The use cases on the store: submit (idempotent, one transaction), read and search.

``submit`` reads the submission through the flow, checks the caller may bill for the
provider, then in ONE write transaction locked on the idempotency key and the beneficiary:
replays a stored answer (same key, same content), refuses a reused key with other content
(409), or has the flow adjudicate on the transaction's payer records and stores the
submission, the answer, the payers' records, an audit record and an outbox event. A lost
race (a writer that ignored the locks stored the key first) replays.

The service adds only idempotency, the transaction and persistence around the flow; the
store decides what a stored submission holds (``adapter.store.submission_row``).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from adapter.access import Caller, may_read, may_submit
from adapter.auth import DEV_CLIENT_ID, OrganisationForbidden
from adapter.domain.device import DeviceStatus, parse_device_status_id
from adapter.domain.values import LppCode
from adapter.errors import (
    ConflictError,
    PayerError,
    PayerFault,
    StoreConflict,
    StoreConnectionLost,
    UsageError,
)
from adapter.flow import Adjudicated, SubmitFlow
from adapter.intake import Format, Submission, parse_payload, read_inquiry
from adapter.prescription_flow import validate_prescription
from adapter.rules.lpp import LppTable, table_version
from adapter.rules.lpp_loader import load_lpp_table
from adapter.service.cancellation import cancel_claim
from adapter.service.port import (
    SORTS,
    Answer,
    DeliveryInfo,
    ReferenceVersion,
    Requeue,
    Runner,
    SearchPage,
    StoredClaim,
)
from adapter.service.search import insurer_of, patient_key, request_criteria, token_value
from adapter.store import Store, StoredSubmission, submission_row
from mappings.fhir import jsonio
from mappings.outbound import all_ok, to_operation_outcome

if TYPE_CHECKING:
    from adapter.service.eligibility import EligibilityUseCases
    from adapter.store import EligibilityCheck

__all__ = [
    "COMPLETED_TOPIC",
    "DEAD_TOPIC",
    "PENDING_TOPIC",
    "PendingClaim",
    "StoreService",
    "content_hash",
    "id_scope",
    "submission_id",
]

#: Outbox topics of pended claims: stored pending (the worker's work), completed, dead-lettered.
PENDING_TOPIC = "claim.pending"
COMPLETED_TOPIC = "claim.completed"
DEAD_TOPIC = "claim.dead-letter"
_log = structlog.get_logger("adapter.service")

_NAMESPACE = uuid.UUID("4d1c7a2e-9a51-5c0b-8f0e-3b6a2f1d9c77")
_SCOPES = uuid.UUID("6a0f3d91-27c4-5e8b-b1d2-8e45c7a90f16")  # a tenant's namespace: uuid5(_SCOPES, client_id)


def id_scope(client_id: str) -> str | None:
    """The scope of a tenant's ids: its client id, except for the development client (the one
    tenant of a deployment without a clients file, and the caller when authentication is off),
    whose ids stay the unscoped ones the adapter gave before keys belonged to tenants."""
    return None if client_id == DEV_CLIENT_ID else client_id


def submission_id(system: str, value: str, scope: str | None = None) -> str:
    """The stored Claim's id: deterministic over the idempotency key and the tenant's ``scope``
    (``id_scope``), so that two tenants' submissions with one Bundle.identifier get two ids."""
    name = f"{system}|{value}"
    return str(uuid.uuid5(_NAMESPACE if scope is None else uuid.uuid5(_SCOPES, scope), name))


def content_hash(bundle: Mapping[str, Any]) -> str:
    """SHA-256 hex of the Bundle's canonical JSON, so the JSON and XML of one Bundle agree.

    Canonical JSON (docs/persistence.md): ``jsonio.dumps(bundle, sort_keys=True)``, keys
    sorted, no whitespace, UTF-8, every number with its own digits, so that the ``1`` of a
    JSON body and the ``Decimal("1")`` its XML twin reads give the same text.
    """
    return hashlib.sha256(jsonio.dumps(bundle, sort_keys=True)).hexdigest()


def _readable(caller: Caller, row: StoredSubmission) -> bool:
    return may_read(
        caller,
        {
            "client_id": row.client_id,
            "provider_finess": row.provider_finess,
            "provider_siret": row.provider_siret,
            "amc_number": row.amc_number,
        },
    )


class _UnscopedIdTaken(Exception):
    """An unscoped id was found taken by another tenant's row (stored before revision 0003)."""


@dataclass(frozen=True, slots=True)
class PendingClaim:
    """A stored claim the remote payers have not decided yet, as a worker takes it up."""

    claim_id: str
    submission: Submission
    received_at: datetime
    scope: str | None
    version: int


@dataclass(frozen=True, slots=True)
class _Staged:
    """A connected submit after its first transaction: the stored (or replayed) answer."""

    claim_id: str
    answer: Answer
    scope: str | None
    pending: PendingClaim | None = None  # None for a replay


class StoreService:
    """``ClaimService`` on a ``Store``, adjudicating through a ``SubmitFlow``.

    ``payer_budget`` (seconds) is how long a connected submit waits for the remote payers before
    it answers ``queued`` and leaves the claim to the worker. ``lpp_table`` is the LPP table the
    device lookups read (the packaged demo table when None); its version is computed here, once.
    """

    def __init__(
        self,
        store: Store,
        flow: SubmitFlow,
        *,
        payer_budget: float = 3.0,
        lpp_table: LppTable | None = None,
        eligibility: EligibilityUseCases | None = None,
    ) -> None:
        self.store = store
        self.flow = flow
        self.eligibility = eligibility
        self.payer_budget = payer_budget
        self.lpp_table = load_lpp_table() if lpp_table is None else lpp_table
        version = table_version(self.lpp_table)
        self._reference_version = ReferenceVersion(digest=version.digest, newest=version.newest)

    # -- the LPP table --------------------------------------------------------------------
    @property
    def reference_version(self) -> ReferenceVersion:
        return self._reference_version

    def device_status(self, code: str, day: date) -> DeviceStatus | None:
        row = self.lpp_table.lookup(LppCode(code), day)
        return None if row is None else row.status(day)

    def device_status_by_id(self, resource_id: str, day: date) -> DeviceStatus | None:
        key = parse_device_status_id(resource_id)
        row = None if key is None else self.lpp_table.row(*key)
        return None if row is None else row.status(day)

    @property
    def connected(self) -> bool:
        return self.flow.connected

    # -- eligibility (adapter.service.eligibility) ----------------------------------------
    def _eligibility(self) -> EligibilityUseCases:
        if self.eligibility is None:
            raise UsageError("this service was built without the eligibility use case")
        return self.eligibility

    @property
    def eligibility_connected(self) -> bool:
        return self.eligibility is not None and self.eligibility.eligibility_connected

    def check_eligibility(
        self, data: bytes, fmt: Format, *, caller: Caller, now: datetime, request_id: str | None = None
    ) -> Answer:
        return self._eligibility().check_eligibility(data, fmt, caller=caller, now=now, request_id=request_id)

    async def check_eligibility_connected(
        self,
        data: bytes,
        fmt: Format,
        *,
        caller: Caller,
        now: datetime,
        run: Runner,
        request_id: str | None = None,
    ) -> Answer:
        return await self._eligibility().check_eligibility_connected(
            data, fmt, caller=caller, now=now, run=run, request_id=request_id
        )

    def eligibility_checks(self, *, caller: Caller) -> list[EligibilityCheck]:
        return self._eligibility().eligibility_checks(caller=caller)

    # -- the prescriber's side --------------------------------------------------------------
    def validate_prescription(self, data: bytes, fmt: Format, *, today: date) -> dict[str, Any]:
        """A lone DeviceRequest's findings as an OperationOutcome (all OK when there are none)."""
        issues = validate_prescription(
            data, fmt, table=self.lpp_table, today=today, canon=self.flow.canon, limits=self.flow.limits
        )
        if not issues:
            return all_ok("The prescription meets every check")
        return to_operation_outcome(issues, canon=self.flow.canon)

    # -- submit -------------------------------------------------------------------------
    def submit(
        self, data: bytes, fmt: Format, *, caller: Caller, now: datetime, request_id: str | None = None
    ) -> Answer:
        """Validate, then replay, refuse (409) or adjudicate and store, in one transaction."""
        submission = self.flow.read(data, fmt)
        self._check_provider(caller, submission)
        digest = content_hash(submission.bundle)
        scope = id_scope(caller.client_id)
        try:
            return self._store(
                submission, data, fmt, digest, caller=caller, now=now, request_id=request_id, scope=scope
            )
        except StoreConnectionLost:
            # The connection died under this submit (a server restart): its transaction is gone
            # whole, or committed whole, and a submit is idempotent, so it runs once more on a
            # fresh connection and stores the claim or replays it.
            return self._store(
                submission, data, fmt, digest, caller=caller, now=now, request_id=request_id, scope=scope
            )
        except _UnscopedIdTaken:
            # Only rows stored before keys belonged to tenants can hold an unscoped id under
            # another tenant: the development client (which reads everything anyway) then takes
            # ids of its own scope.
            return self._store(
                submission,
                data,
                fmt,
                digest,
                caller=caller,
                now=now,
                request_id=request_id,
                scope=caller.client_id,
            )

    @staticmethod
    def _check_provider(caller: Caller, submission: Submission) -> None:
        provider = submission.request.provider
        finess = None if provider.finess is None else provider.finess.value
        siret = None if provider.siret is None else provider.siret.value
        if not may_submit(caller, finess, siret):
            raise OrganisationForbidden(
                f"client {caller.client_id!r} may not submit for provider {provider.identifier}"
            )

    def _store(
        self,
        submission: Submission,
        data: bytes,
        fmt: Format,
        digest: str,
        *,
        caller: Caller,
        now: datetime,
        request_id: str | None,
        scope: str | None,
    ) -> Answer:
        request = submission.request
        key = request.submission
        nir = request.beneficiary.nir
        tenant = caller.client_id
        # The key's lock is the tenant's: two tenants with one Bundle.identifier never wait on each other.
        locks = (f"submission:{len(tenant)}:{tenant}|{key.system}|{key.value}", f"beneficiary:{nir.value}")
        try:
            with self.store.write(lock_keys=locks) as tx:
                # The payers' reads travel with the key's look-up: one round trip on PostgreSQL.
                tx.preload_beneficiary(nir)
                stored = tx.find_submission(tenant, key.system, key.value)
                if stored is None:
                    claim_id = submission_id(key.system, key.value, scope)  # readable at GET /Claim/{id}
                    adjudicated = self.flow.adjudicate(
                        submission, records=tx, now=now, claim_reference=f"Claim/{claim_id}", scope=scope
                    )
                    body = jsonio.dumps(adjudicated.response)
                    row = submission_row(
                        id=claim_id,
                        adjudicated=adjudicated,
                        response_json=body,
                        raw=data,
                        media_type=fmt.media_type,
                        content_hash=digest,
                        client_id=caller.client_id,
                        at=now,
                    )
                    tx.insert_submission(row)  # the key is locked and free: it goes with the COMMIT
                    tx.audit(
                        action="submit",
                        outcome=row.outcome,
                        client_id=caller.client_id,
                        submission_id=claim_id,
                        request_id=request_id,
                        at=now,
                    )
                    tx.enqueue(
                        topic="claim.adjudicated",
                        payload={
                            "submission": claim_id,
                            "amo": adjudicated.amo_response_id,
                            "amc": adjudicated.amc_response_id,
                        },
                        at=now,
                    )
        except StoreConflict:
            # Only a writer that ignores the locks could have stored the key meanwhile: then it
            # is a replay; anything else is a real fault.
            with self.store.read() as tx:
                stored = tx.find_submission(tenant, key.system, key.value)
            if stored is None:
                if scope is None:
                    raise _UnscopedIdTaken() from None
                raise
        if stored is not None:
            return self._replay(stored, digest)
        return Answer(resource=adjudicated.response, json=body, outcome=row.outcome)

    # -- submit to remote payers --------------------------------------------------------------
    async def submit_connected(
        self,
        data: bytes,
        fmt: Format,
        *,
        caller: Caller,
        now: datetime,
        run: Runner,
        request_id: str | None = None,
    ) -> Answer:
        """Store the claim as pending (or replay it), then wait up to ``payer_budget`` for the remote
        payers; their decision becomes the claim's answer, or the ``queued`` one stands and the
        worker completes it (docs/payer-protocol.md)."""
        staged = await run(
            lambda: self._stage_pending(data, fmt, caller=caller, now=now, request_id=request_id)
        )
        if staged.answer.replayed:
            return staged.answer
        pending = await run(lambda: self.pending_claim(staged.claim_id))
        if pending is None:  # pragma: no cover - stored just now; only a purge could remove it
            return staged.answer
        try:
            adjudicated = await asyncio.wait_for(self.adjudicate_pending(pending), timeout=self.payer_budget)
        except (TimeoutError, PayerFault) as exc:
            _log.info("claim.pended", claim=staged.claim_id, reason=type(exc).__name__)
            return staged.answer
        completed = await run(lambda: self.complete_pending(pending, adjudicated, at=now))
        return staged.answer if completed is None else completed

    def _stage_pending(
        self, data: bytes, fmt: Format, *, caller: Caller, now: datetime, request_id: str | None
    ) -> _Staged:
        submission = self.flow.read(data, fmt)
        self._check_provider(caller, submission)
        digest = content_hash(submission.bundle)
        scope = id_scope(caller.client_id)
        key = submission.request.submission
        tenant = caller.client_id
        locks = (f"submission:{len(tenant)}:{tenant}|{key.system}|{key.value}",)
        claim_id = submission_id(key.system, key.value, scope)
        try:
            with self.store.write(lock_keys=locks) as tx:
                stored = tx.find_submission(tenant, key.system, key.value)
                if stored is None:
                    queued = self.flow.pending(
                        submission, now=now, claim_reference=f"Claim/{claim_id}", scope=scope
                    )
                    body = jsonio.dumps(queued.response)
                    row = submission_row(
                        id=claim_id,
                        adjudicated=queued,
                        response_json=body,
                        raw=data,
                        media_type=fmt.media_type,
                        content_hash=digest,
                        client_id=tenant,
                        at=now,
                        state="pending",
                    )
                    tx.insert_submission(row)
                    tx.audit(
                        action="submit",
                        outcome=row.outcome,
                        client_id=tenant,
                        submission_id=claim_id,
                        request_id=request_id,
                        at=now,
                    )
                    tx.enqueue(topic=PENDING_TOPIC, payload={"submission": claim_id}, at=now)
        except StoreConflict:
            with self.store.read() as tx:
                stored = tx.find_submission(tenant, key.system, key.value)
            if stored is None:
                raise
        if stored is not None:
            return _Staged(claim_id=stored.id, answer=self._replay(stored, digest), scope=scope)
        return _Staged(
            claim_id=claim_id,
            answer=Answer(resource=queued.response, json=body, outcome=row.outcome),
            scope=scope,
        )

    async def adjudicate_pending(self, pending: PendingClaim) -> Adjudicated:
        """The remote payers' decision on a pending claim, asked as of its reception, so that every
        retry sends the payers the very same request under the same keys."""
        return await self.flow.adjudicate_remote(
            pending.submission,
            now=pending.received_at,
            claim_id=pending.claim_id,
            claim_reference=f"Claim/{pending.claim_id}",
            scope=pending.scope,
        )

    def pending_claim(self, claim_id: str) -> PendingClaim | None:
        """The claim to complete, or None when it is no longer pending (done elsewhere)."""
        with self.store.read() as tx:
            row = tx.submission_by_id(claim_id)
        if row is None or row.state != "pending" or row.raw is None:
            return None
        submission = self.flow.read(row.raw, Format.XML if row.media_type.endswith("xml") else Format.JSON)
        key = submission.request.submission
        scope = None if row.id == submission_id(key.system, key.value) else row.client_id
        return PendingClaim(
            claim_id=row.id,
            submission=submission,
            received_at=row.received_at,
            scope=scope,
            version=row.version,
        )

    def complete_pending(
        self, pending: PendingClaim, adjudicated: Adjudicated, *, at: datetime
    ) -> Answer | None:
        """Store the payers' decision as the claim's next answer; None when another worker (or the
        submit itself) completed it first: the decision is the same, since the payers decide a
        key once."""
        return self._replace(pending, adjudicated, at=at, state="complete", reason=None)

    def dead_letter(self, pending: PendingClaim, fault: PayerError, *, at: datetime) -> Answer | None:
        """Give up on a claim whose payers never answered: its final answer is an error, its
        state ``dead`` (listed by ``adapter dead-letters``), the reason kept."""
        final = self.flow.unanswered(
            pending.submission,
            fault,
            now=at,
            claim_reference=f"Claim/{pending.claim_id}",
            scope=pending.scope,
        )
        return self._replace(pending, final, at=at, state="dead", reason=fault.message)

    def dead_letters(self, *, caller: Caller, limit: int = 100) -> list[StoredSubmission]:
        """The claims the payers never decided, oldest first (the operator's list)."""
        with self.store.read() as tx:
            return tx.submissions_in_state("dead", caller=caller, limit=limit)

    def requeue_claim(self, claim_id: str, *, caller: Caller, now: datetime) -> Requeue:
        """Ask the payers again for a dead-lettered claim: it is pending again, and the worker
        takes it up with the same keys. Tells a claim the caller may not read (or unknown) from
        one that is not dead; audited under the caller's client id."""
        with self.store.write(lock_keys=(f"claim:{claim_id}",)) as tx:
            row = tx.submission_by_id(claim_id)
            if row is None or not _readable(caller, row):
                return Requeue.NOT_FOUND
            if not tx.requeue(claim_id, at=now):
                return Requeue.NOT_DEAD
            tx.audit(
                action="requeue", outcome="pending", client_id=caller.client_id, submission_id=claim_id,
                request_id=None, at=now,
            )  # fmt: skip
            tx.enqueue(
                topic=PENDING_TOPIC,
                payload={"submission": claim_id, "requeued": True, "version": row.version},
                at=now,
            )
        return Requeue.REQUEUED

    # -- deliveries (docs/delivery.md) ------------------------------------------------------
    def deliveries(
        self,
        *,
        caller: Caller,
        state: str | None = None,
        destination: str | None = None,
        claim_id: str | None = None,
        limit: int = 100,
    ) -> list[DeliveryInfo]:
        """The deliveries of the claims ``caller`` may read, oldest first."""
        with self.store.read() as tx:
            rows = tx.deliveries(
                caller=caller, state=state, destination=destination, claim_id=claim_id, limit=limit
            )
        return [
            DeliveryInfo(
                id=row.id,
                event_id=row.event_id,
                event_type=row.event_type,
                claim_id=row.claim_id,
                destination=row.destination,
                target=row.target,
                state=row.state,
                attempts=row.attempts,
                last_error=row.last_error,
                created_at=row.created_at,
                updated_at=row.updated_at,
                delivered_at=row.delivered_at,
            )
            for row in rows
        ]

    def requeue_delivery(self, delivery_id: int, *, caller: Caller, now: datetime) -> Requeue:
        """Send a dead delivery again (its attempts counted afresh); audited under the caller."""
        with self.store.write(lock_keys=(f"delivery:{delivery_id}",)) as tx:
            found = tx.deliveries(caller=caller, delivery_id=delivery_id, limit=1)
            if not found:
                return Requeue.NOT_FOUND
            if not tx.requeue_delivery(delivery_id, now=now):
                return Requeue.NOT_DEAD
            tx.audit(
                action="requeue-delivery", outcome="pending", client_id=caller.client_id,
                submission_id=found[0].claim_id, request_id=None, at=now,
            )  # fmt: skip
        return Requeue.REQUEUED

    # -- cancellation ---------------------------------------------------------------------
    async def cancel(
        self,
        data: bytes,
        fmt: Format,
        *,
        caller: Caller,
        now: datetime,
        run: Runner,
        request_id: str | None = None,
    ) -> Answer | None:
        """Withdraw a decided claim of the caller's tenant (``adapter.service.cancellation``)."""
        return await cancel_claim(self, data, fmt, caller=caller, now=now, run=run, request_id=request_id)

    def _replace(
        self, pending: PendingClaim, adjudicated: Adjudicated, *, at: datetime, state: str, reason: str | None
    ) -> Answer | None:
        body = jsonio.dumps(adjudicated.response)
        with self.store.write(lock_keys=(f"claim:{pending.claim_id}",)) as tx:
            row = tx.submission_by_id(pending.claim_id)
            if row is None or row.state != "pending":
                return None
            new = submission_row(
                id=row.id,
                adjudicated=adjudicated,
                response_json=body,
                raw=row.raw,
                media_type=row.media_type,
                content_hash=row.content_hash,
                client_id=row.client_id,
                at=at,
                state=state,
                received_at=row.received_at,
                dead_reason=reason,
            )
            if not tx.replace_answer(new, version=row.version, at=at):
                return None  # pragma: no cover - the claim's lock keeps other writers out
            tx.audit(
                action="complete" if state == "complete" else "dead-letter",
                outcome=new.outcome,
                client_id=row.client_id,
                submission_id=row.id,
                request_id=None,
                at=at,
            )
            tx.enqueue(
                topic=COMPLETED_TOPIC if state == "complete" else DEAD_TOPIC,
                payload={"submission": row.id, "version": row.version + 1},
                at=at,
            )
        return Answer(resource=adjudicated.response, json=body, outcome=new.outcome)

    def _replay(self, stored: StoredSubmission, digest: str) -> Answer:
        if stored.content_hash != digest:
            raise ConflictError(
                f"Bundle.identifier {stored.key_system}|{stored.key_value} was already submitted "
                "with different content"
            )
        return Answer(
            resource=jsonio.loads(stored.response_json),
            json=stored.response_json,
            replayed=True,
            outcome=stored.outcome,
        )

    # -- reads --------------------------------------------------------------------------
    def claim_response(self, resource_id: str, *, caller: Caller) -> Answer | None:
        """The current version of a ClaimResponse, saying which it is (``meta.versionId``,
        ``meta.lastUpdated``: a claim pended for remote payers has a second one)."""
        with self.store.read() as tx:
            row = tx.submission_by_response_id(resource_id)
        if row is None or not _readable(caller, row):
            return None
        for resource in _responses(row):
            if resource.get("id") == resource_id:
                at = _updated(row)
                resource = _with_version(resource, row.version, at)
                return Answer(
                    resource=resource, json=jsonio.dumps(resource), version=row.version, last_updated=at
                )
        return None  # pragma: no cover - the store indexes exactly these ids

    def claim_response_history(self, resource_id: str, *, caller: Caller) -> list[dict[str, Any]] | None:
        """Every version of a ClaimResponse, newest first (FHIR ``_history``), or None when unseen."""
        with self.store.read() as tx:
            row = tx.submission_by_response_id(resource_id)
            if row is None or not _readable(caller, row):
                return None
            earlier = tx.answer_versions(row.id)
        versions = [(row.version, row.response_json, _updated(row))]
        versions += [(version, body, at) for version, _, body, at in reversed(earlier)]
        history: list[dict[str, Any]] = []
        for version, body, at in versions:
            for resource in _responses_of(body):
                if resource.get("id") == resource_id:
                    history.append(_with_version(resource, version, at))
        return history

    def inquire(self, data: bytes, fmt: Format, *, caller: Caller) -> Answer | None:
        """The current answer to the caller's submission named by the Bundle's ``identifier``
        (``Claim/$inquire``, the Da Vinci PAS way of asking after a queued claim): the submitted
        Bundle or any Bundle carrying its identifier. None when the caller submitted none."""
        system, value = read_inquiry(data, fmt, self.flow.limits)
        with self.store.read() as tx:
            stored = tx.find_submission(caller.client_id, system, value)
        if stored is None:
            return None
        return Answer(
            resource=jsonio.loads(stored.response_json), json=stored.response_json, outcome=stored.outcome
        )

    def claim(self, resource_id: str, *, caller: Caller) -> StoredClaim | None:
        with self.store.read() as tx:
            row = tx.submission_by_id(resource_id)
        if row is None or row.raw is None or not _readable(caller, row):
            return None  # a purged body is gone: 404, as for an unknown id
        return StoredClaim(raw=row.raw, media_type=row.media_type)

    def claim_answer(self, claim_id: str, *, caller: Caller) -> Answer | None:
        with self.store.read() as tx:
            row = tx.submission_by_id(claim_id)
        if row is None or not _readable(caller, row):
            return None
        return Answer(resource=jsonio.loads(row.response_json), json=row.response_json, outcome=row.outcome)

    def search_claim_responses(
        self,
        *,
        caller: Caller,
        request: str | None = None,
        patient_identifier: str | None = None,
        insurer: str | None = None,
        outcome: str | None = None,
        state: str | None = None,
        created_from: datetime | None = None,
        created_before: datetime | None = None,
        sort: str = "-created",
        offset: int = 0,
        count: int = 20,
    ) -> SearchPage:
        """Search ClaimResponses. ``request``: ``Claim/<id>``, ``<id>`` or ``system|value`` of the
        Claim (or submission) identifier; ``patient.identifier``: ``[system|]NIR``; ``insurer``:
        ``[system|]`` AMO organisme or AMC number; ``outcome`` and ``state`` the claim's; the
        ``created`` bounds the time it was received. ``offset`` counts ClaimResponses, and a page
        holds at most ``count`` of them (the AMO and AMC answers of a claim may be split)."""
        claim, claim_id = request_criteria(request)
        nir = patient_key(patient_identifier, self.flow.canon.eu_person)
        insurer_value = token_value(insurer, None)
        with self.store.read() as tx:
            rows, total = tx.search_responses(
                caller=caller,
                claim=claim,
                claim_id=claim_id,
                patient_nir=nir,
                insurer=insurer_value,
                outcome=outcome,
                state=state,
                received_from=created_from,
                received_before=created_before,
                sort=_store_sort(sort),
                offset=offset,
                limit=count,
            )
        resources: list[dict[str, Any]] = []
        for row, position in rows:
            for resource in _responses(row):
                if insurer_value is not None and insurer_of(resource) != insurer_value:
                    continue
                if offset <= position < offset + count:
                    resources.append(_with_version(resource, row.version, _updated(row)))
                position += 1
        return _page(resources, total, offset, count)

    def search_claims(
        self,
        *,
        caller: Caller,
        identifier: tuple[str | None, str] | None = None,
        sort: str = "-created",
        offset: int = 0,
        count: int = 20,
    ) -> SearchPage:
        with self.store.read() as tx:
            rows, total = tx.search(
                caller=caller, claim_identifier=identifier, sort=_store_sort(sort), offset=offset, limit=count
            )
        resources = [claim for claim in map(self._claim_of, rows) if claim is not None]
        return _page(resources, total, offset, count)

    def claim_resource(self, resource_id: str, *, caller: Caller) -> Answer | None:
        row = self._readable_row(resource_id, caller)
        claim = None if row is None else self._claim_of(row)
        if row is None or claim is None:
            return None
        return Answer(resource=claim, json=_encoded(claim), version=1, last_updated=row.stored_at)

    def submitted_bundle(self, resource_id: str, *, caller: Caller) -> Answer | None:
        row = self._readable_row(resource_id, caller)
        bundle = None if row is None else self._bundle_of(row)
        if row is None or bundle is None:
            return None
        return Answer(resource=bundle, json=_encoded(bundle), version=1, last_updated=row.stored_at)

    def _readable_row(self, resource_id: str, caller: Caller) -> StoredSubmission | None:
        with self.store.read() as tx:
            row = tx.submission_by_id(resource_id)
        return row if row is not None and _readable(caller, row) else None

    def _bundle_of(self, row: StoredSubmission) -> dict[str, Any] | None:
        """The submitted Bundle as a resource of this server: the stored Claim's id, version 1
        (a submission never changes), stored when it was received. None once purged."""
        if row.raw is None:
            return None
        fmt = Format.XML if row.media_type.endswith("xml") else Format.JSON
        bundle = parse_payload(row.raw, fmt, self.flow.limits)
        return _with_version(bundle, 1, row.stored_at, resource_id=row.id)

    def _claim_of(self, row: StoredSubmission) -> dict[str, Any] | None:
        """The submission's Claim (its Bundle's first entry) under the stored Claim's id, the one
        its ClaimResponses' ``request`` names. None once purged."""
        bundle = self._bundle_of(row)
        if bundle is None:
            return None
        claims = [
            entry["resource"]
            for entry in bundle.get("entry", [])
            if entry.get("resource", {}).get("resourceType") == "Claim"
        ]
        if not claims:  # pragma: no cover - intake stored only Bundles whose first entry is a Claim
            return None
        return _with_version(claims[0], 1, row.stored_at, resource_id=row.id)

    def ready(self) -> bool:
        return self.store.ping()

    # -- retention ----------------------------------------------------------------------
    def purge(self, *, older_than: timedelta, now: datetime) -> int:
        """Purge the bodies of submissions received more than ``older_than`` before ``now``
        (``Tx.purge_bodies``: what replays and the audit need stays); audited; the count."""
        with self.store.write() as tx:
            count = tx.purge_bodies(received_before=now - older_than, now=now)
            tx.audit(
                action="purge",
                outcome=f"{count} purged",
                client_id="adapter-purge",
                submission_id=None,
                request_id=None,
                at=now,
            )
        return count


def _with_version(
    resource: dict[str, Any], version: int, at: datetime, *, resource_id: str | None = None
) -> dict[str, Any]:
    """The resource with ``meta.versionId`` and ``meta.lastUpdated`` (and the server's id when
    given), its other elements unchanged and in their order."""
    meta = {**resource.get("meta", {}), "versionId": str(version), "lastUpdated": at.isoformat()}
    head = {
        "resourceType": resource["resourceType"],
        "id": resource.get("id") if resource_id is None else resource_id,
    }
    return (
        head
        | {"meta": meta}
        | {key: value for key, value in resource.items() if key not in ("resourceType", "id", "meta")}
    )


def _encoded(resource: dict[str, Any]) -> bytes:
    """The resource's JSON bytes, or none for a body stored before intake refused what UTF-8
    cannot carry (a lone surrogate from a ``\\ud800`` escape): the XML answer is still made."""
    try:
        return jsonio.dumps(resource)
    except UnicodeEncodeError:
        return b""


def _updated(row: StoredSubmission) -> datetime:
    """When the claim's current answer was stored: the worker's completion, else the submit."""
    return row.updated_at or row.stored_at


def _store_sort(sort: str) -> str:
    """A FHIR ``_sort`` value (``SORTS``) as the store's order."""
    if sort not in SORTS:
        raise UsageError(f"sort must be one of {', '.join(SORTS)}")
    return sort.replace("_lastUpdated", "updated").replace("created", "received")


def _page(resources: list[dict[str, Any]], total: int, offset: int, count: int) -> SearchPage:
    """A page whose links move by ``count`` resources: FHIR's ``_count`` is a hard maximum."""
    return SearchPage(
        resources=resources,
        total=total,
        next_offset=offset + count if count and offset + count < total else None,
        previous_offset=max(0, offset - count) if count and offset > 0 else None,
    )


def _responses(row: StoredSubmission) -> list[dict[str, Any]]:
    """The ClaimResponses of a stored answer, as stored (a read serves what was answered)."""
    return _responses_of(row.response_json)


def _responses_of(body: bytes) -> list[dict[str, Any]]:
    bundle = jsonio.loads(body)
    return [
        entry["resource"]
        for entry in bundle.get("entry", [])
        if entry["resource"]["resourceType"] == "ClaimResponse"
    ]
