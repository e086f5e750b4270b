"""The use cases on the store: submit (idempotent, one transaction), read and search.

``submit`` runs intake, checks the caller may bill for the provider, then in ONE write
transaction locked on the idempotency key and the beneficiary: replays a stored answer (same
key, same content), refuses a reused key with other content (409), or adjudicates with the
reference payers bound to the transaction's history and ledger and stores the submission,
its decisions, the response, the ledger and history records, an audit record and an outbox
event. A lost race (another process stored the key first) rolls back and replays.

On SQLite, whose write lock covers the whole database, the adjudication runs before the write
transaction on a snapshot of the beneficiary's history and ledger; the transaction checks the
snapshot still holds, and adjudicates again inside itself when it does not
(docs/persistence.md).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError

from adapter.adjudication import Adjudication, adjudicate, entry_positions, response_bundle
from adapter.auth import OrganisationForbidden, read_allowed, submit_allowed
from adapter.domain.jsonable import to_jsonable
from adapter.domain.values import Nir
from adapter.errors import ConflictError
from adapter.intake import Format, Limits, Submission, read_submission
from adapter.payers.ports import DeliveryHistory, ForfaitLedger
from adapter.payers.reference import ReferenceAmc, ReferenceAmo
from adapter.rules.config import RulesConfig
from adapter.rules.contracts import ContractCatalogue
from adapter.rules.history import DeliveryRecord
from adapter.rules.ledger import LedgerEntry
from adapter.rules.lpp import LppTable
from adapter.store import NewSubmission, Store, StoredSubmission, Visibility
from adapter.usecases import Answer, Caller, SearchPage, StoredClaim
from mappings.fhir import jsonio
from mappings.systems import NIR, Canon

__all__ = ["StoreService", "content_hash", "visibility"]

_NAMESPACE = uuid.UUID("4d1c7a2e-9a51-5c0b-8f0e-3b6a2f1d9c77")


def _submission_id(system: str, value: str) -> str:
    """The stored Claim's id: deterministic over the idempotency key."""
    return str(uuid.uuid5(_NAMESPACE, f"{system}|{value}"))


def content_hash(bundle: Mapping[str, Any]) -> str:
    """SHA-256 hex of the Bundle's canonical JSON, so the JSON and XML of one Bundle agree.

    Canonical JSON (docs/persistence.md): ``jsonio.dumps(bundle, sort_keys=True)``, keys
    sorted, no whitespace, UTF-8, every number with its own digits, so that the ``1`` of a
    JSON body and the ``Decimal("1")`` its XML twin reads give the same text.
    """
    return hashlib.sha256(jsonio.dumps(bundle, sort_keys=True)).hexdigest()


def _stored_json(obj: object) -> str:
    """The stored JSON text of a request, a decision or findings (``to_jsonable``'s view)."""
    return jsonio.dumps(to_jsonable(obj)).decode("utf-8")


def visibility(caller: Caller) -> Visibility:
    return Visibility(
        client_id=caller.client_id,
        finess=caller.finess,
        siret=caller.siret,
        amc=caller.amc,
        everything=caller.everything,
    )


def _visible(caller: Caller, row: StoredSubmission) -> bool:
    return read_allowed(caller, row.provider_finess, row.provider_siret, row.amc_number, row.client_id)


def _outcome(adjudication: Adjudication) -> str:
    outcomes = {adjudication.amo.outcome.value}
    if adjudication.amc is not None:
        outcomes.add(adjudication.amc.outcome.value)
    for worst in ("error", "partial", "queued"):
        if worst in outcomes:
            return worst
    return "complete"


_T = TypeVar("_T")


class _Seeded(Generic[_T]):
    """A beneficiary's history or ledger as read (a snapshot), and what the payers add to it.

    It serves as ``DeliveryHistory`` and as ``ForfaitLedger`` for one adjudication of one
    beneficiary, outside any transaction.
    """

    def __init__(self, read: Sequence[_T]) -> None:
        self.read = tuple(read)
        self.added: list[_T] = []

    def deliveries(self, nir: Nir) -> Sequence[_T]:
        return (*self.read, *self.added)

    def record(self, records: Iterable[_T]) -> None:
        self.added.extend(records)

    entries = deliveries
    apply = record


@dataclass(frozen=True, slots=True, kw_only=True)
class _Work:
    """What a submit brings to the store, worked out before any transaction."""

    submission: Submission
    data: bytes
    fmt: Format
    digest: str
    request_json: str
    positions: dict[str, int]
    caller: Caller
    now: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class _Staged:
    """An adjudicated submission ready to store: the row and the answer it holds."""

    row: NewSubmission
    bundle: dict[str, Any]
    body: bytes


@dataclass(frozen=True, slots=True)
class _Ahead:
    """A submission adjudicated on a snapshot, before the write transaction."""

    history: _Seeded[DeliveryRecord]
    ledger: _Seeded[LedgerEntry]
    staged: _Staged

    def holds(self, history: Sequence[DeliveryRecord], ledger: Sequence[LedgerEntry]) -> bool:
        """True when the beneficiary's history and ledger are still those of the snapshot."""
        return tuple(history) == self.history.read and tuple(ledger) == self.ledger.read


class StoreService:
    """``ClaimService`` on a ``Store`` with the in-process reference payers."""

    def __init__(
        self,
        store: Store,
        *,
        table: LppTable,
        catalogue: ContractCatalogue,
        canon: Canon | None = None,
        limits: Limits | None = None,
        config: RulesConfig | None = None,
    ) -> None:
        self.store = store
        self.table = table
        self.catalogue = catalogue
        self.canon = canon or Canon()
        self.limits = limits or Limits()
        self.config = config or RulesConfig()

    # -- submit -------------------------------------------------------------------------
    def submit(
        self, data: bytes, fmt: Format, *, caller: Caller, now: datetime, request_id: str | None = None
    ) -> Answer:
        """Validate, then replay, refuse (409) or adjudicate and store, in one transaction."""
        submission = read_submission(data, fmt, canon=self.canon, limits=self.limits)
        request = submission.request
        provider = request.provider
        if not submit_allowed(caller, provider.finess, provider.siret):
            raise OrganisationForbidden(
                f"client {caller.client_id!r} may not submit for provider {request.provider.identifier}"
            )
        try:
            return self._store(submission, data, fmt, caller=caller, now=now, request_id=request_id)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # The database connection died under this submit (a server restart): its
            # transaction is gone whole, or committed whole, and a submit is idempotent, so it
            # runs once more on a fresh connection and stores the claim or replays it.
            return self._store(submission, data, fmt, caller=caller, now=now, request_id=request_id)

    def _store(
        self,
        submission: Submission,
        data: bytes,
        fmt: Format,
        *,
        caller: Caller,
        now: datetime,
        request_id: str | None,
    ) -> Answer:
        request = submission.request
        digest = content_hash(submission.bundle)
        key = request.submission
        nir = request.beneficiary.nir
        locks = (f"submission:{key.system}|{key.value}", f"beneficiary:{nir.value}")
        # Whatever does not need the transaction is done before it: on SQLite a write
        # transaction holds the whole database, so every other writer waits for it.
        work = _Work(
            submission=submission,
            data=data,
            fmt=fmt,
            digest=digest,
            request_json=_stored_json(request),
            positions=entry_positions(submission.bundle),
            caller=caller,
            now=now,
        )
        ahead: _Ahead | None = None
        write = self.store.write_if_free(lock_keys=locks)
        if write is None:
            # SQLite, with another writer in its turn: rather than wait idle, adjudicate on a
            # snapshot of the beneficiary's history and ledger, which the write transaction
            # then only checks is still current.
            with self.store.read() as tx:
                stored = tx.find_submission(key.system, key.value)
                if stored is not None:
                    return self._replay(stored, digest)
                history = _Seeded(tx.history.deliveries(nir))
                ledger = _Seeded(tx.ledger.entries(nir))
            ahead = _Ahead(history, ledger, self._stage(work, history, ledger))
            write = self.store.write(lock_keys=locks)
        try:
            with write as tx:
                # The payers' reads travel with the key's look-up: one round trip on PostgreSQL.
                tx.preload_beneficiary(nir)
                stored = tx.find_submission(key.system, key.value)
                if stored is None:
                    if ahead is not None and ahead.holds(tx.history.deliveries(nir), tx.ledger.entries(nir)):
                        staged = ahead.staged
                        tx.history.record(ahead.history.added)
                        tx.ledger.apply(ahead.ledger.added)
                    else:  # no snapshot, or another submit for the beneficiary came in between
                        staged = self._stage(work, tx.history, tx.ledger)
                    row = staged.row
                    tx.stage_submission(row)  # the key is locked and free: it goes with the COMMIT
                    tx.audit(
                        action="submit",
                        outcome=row.outcome,
                        client_id=caller.client_id,
                        submission_id=row.id,
                        request_id=request_id,
                        at=now,
                    )
                    tx.enqueue(
                        topic="claim.adjudicated",
                        payload={
                            "submission": row.id,
                            "amo": row.amo_response_id,
                            "amc": row.amc_response_id,
                        },
                        at=now,
                    )
        except IntegrityError:
            # Only a writer that ignores the locks could have stored the key meanwhile: then it
            # is a replay; anything else is a real fault.
            with self.store.read() as tx:
                stored = tx.find_submission(key.system, key.value)
            if stored is None:
                raise
        if stored is not None:
            return self._replay(stored, digest)
        return Answer(resource=staged.bundle, json=staged.body)

    def _stage(self, work: _Work, history: DeliveryHistory, ledger: ForfaitLedger) -> _Staged:
        """Adjudicate with the reference payers on these stores, and build the answer and the row."""
        request = work.submission.request
        key = request.submission
        amo = ReferenceAmo(table=self.table, history=history, config=self.config)
        amc = ReferenceAmc(catalogue=self.catalogue, table=self.table, ledger=ledger, config=self.config)
        result = adjudicate(
            request,
            amo=amo,
            amc=amc,
            now=work.now,
            positions=work.positions,
            warnings=work.submission.warnings,
        )
        claim_id = _submission_id(key.system, key.value)  # readable at GET /Claim/{id}
        bundle = response_bundle(request, result, canon=self.canon, claim_reference=f"Claim/{claim_id}")
        body = jsonio.dumps(bundle)
        return _Staged(row=self._new_row(work, result, bundle, body), bundle=bundle, body=body)

    def _replay(self, stored: StoredSubmission, digest: str) -> Answer:
        if stored.content_hash != digest:
            raise ConflictError(
                f"Bundle.identifier {stored.key_system}|{stored.key_value} was already submitted "
                "with different content"
            )
        return Answer(resource=jsonio.loads(stored.response_json), json=stored.response_json, replayed=True)

    def _new_row(
        self, work: _Work, result: Adjudication, bundle: dict[str, Any], body: bytes
    ) -> NewSubmission:
        submission, caller, now = work.submission, work.caller, work.now
        request = submission.request
        key = request.submission
        responses = [
            entry["resource"]["id"]
            for entry in bundle["entry"]
            if entry["resource"]["resourceType"] == "ClaimResponse"
        ]
        claim_identifier = request.claim_identifier
        return NewSubmission(
            id=_submission_id(key.system, key.value),
            key_system=key.system,
            key_value=key.value,
            content_hash=work.digest,
            media_type=work.fmt.media_type,
            raw=work.data,
            request_json=work.request_json,
            amo_decision_json=_stored_json(result.amo),
            amc_decision_json=None if result.amc is None else _stored_json(result.amc),
            findings_json=_stored_json(result.findings),
            response_json=body,
            amo_response_id=responses[0],
            amc_response_id=responses[1] if len(responses) > 1 else None,
            patient_nir=request.beneficiary.nir.value,
            provider_finess=None if request.provider.finess is None else request.provider.finess.value,
            provider_siret=None if request.provider.siret is None else request.provider.siret.value,
            amo_organisme=request.amo.organisme.value,
            amc_number=None if request.amc is None else request.amc.amc_number.value,
            claim_identifier_system=None if claim_identifier is None else claim_identifier.system,
            claim_identifier_value=None if claim_identifier is None else claim_identifier.value,
            use=request.use.value,
            outcome=_outcome(result),
            client_id=caller.client_id,
            received_at=now,
            stored_at=now,
        )

    # -- reads --------------------------------------------------------------------------
    def claim_response(self, resource_id: str, *, caller: Caller) -> Answer | None:
        with self.store.read() as tx:
            row = tx.submission_by_response_id(resource_id)
        if row is None or not _visible(caller, row):
            return None
        for resource in _responses(row):
            if resource.get("id") == resource_id:
                return Answer(resource=resource, json=jsonio.dumps(resource))
        return None  # pragma: no cover - the store indexes exactly these ids

    def claim(self, resource_id: str, *, caller: Caller) -> StoredClaim | None:
        with self.store.read() as tx:
            row = tx.submission_by_id(resource_id)
        if row is None or not _visible(caller, row):
            return None
        return StoredClaim(raw=row.raw, media_type=row.media_type)

    def search_claim_responses(
        self,
        *,
        caller: Caller,
        request: str | None = None,
        patient_identifier: str | None = None,
        insurer: str | None = None,
        offset: int = 0,
        count: int = 20,
    ) -> SearchPage:
        """Search ClaimResponses. ``request``: ``Claim/<id>``, ``<id>`` or ``system|value`` of the
        Claim (or submission) identifier; ``patient.identifier``: ``[system|]NIR``; ``insurer``:
        ``[system|]`` AMO organisme or AMC number. ``offset`` counts submissions (an opaque cursor)."""
        claim, claim_id = _request_criteria(request)
        nir = _token_value(patient_identifier, NIR)
        insurer_value = _token_value(insurer, None)
        criteria: dict[str, Any] = {
            "visibility": visibility(caller),
            "claim": claim,
            "claim_id": claim_id,
            "patient_nir": nir,
            "insurer": insurer_value,
        }
        per_page = count if insurer_value is not None else max(1, count // 2)
        with self.store.read() as tx:
            rows, submissions = tx.search(**criteria, offset=offset, limit=0 if count == 0 else per_page)
            with_amc = 0
            if insurer_value is None and submissions:
                _, with_amc = tx.search(**criteria, with_amc=True, limit=0)
        total = submissions + with_amc
        resources: list[dict[str, Any]] = []
        for row in rows:
            for resource in _responses(row):
                if insurer_value is None or _insurer_of(resource) == insurer_value:
                    resources.append(resource)
        next_offset = offset + per_page if count and offset + per_page < submissions else None
        previous_offset = max(0, offset - per_page) if count and offset > 0 else None
        return SearchPage(
            resources=resources, total=total, next_offset=next_offset, previous_offset=previous_offset
        )

    def ready(self) -> bool:
        return self.store.ping()


def _responses(row: StoredSubmission) -> list[dict[str, Any]]:
    bundle = jsonio.loads(row.response_json)
    return [
        entry["resource"]
        for entry in bundle.get("entry", [])
        if entry["resource"]["resourceType"] == "ClaimResponse"
    ]


def _insurer_of(resource: Mapping[str, Any]) -> str | None:
    identifier = resource.get("insurer", {}).get("identifier", {})
    value = identifier.get("value")
    return value if isinstance(value, str) else None


def _token_value(token: str | None, system: str | None) -> str | None:
    """``system|value`` or ``value``; a system other than the expected one matches nothing."""
    if token is None:
        return None
    if "|" in token:
        given, _, value = token.partition("|")
        if system is not None and given and given != system:
            return "\x00no-match"
        return value
    return token


def _request_criteria(request: str | None) -> tuple[tuple[str, str] | None, str | None]:
    if request is None:
        return None, None
    if "|" in request:
        system, _, value = request.partition("|")
        return (system, value), None
    return None, request.rsplit("/", 1)[-1]
