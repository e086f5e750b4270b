"""What goes into and comes out of the store: plain frozen records, no ORM objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapter.errors import UsageError

__all__ = ["NewSubmission", "OutboxEvent", "StoredSubmission", "StoredSubscription"]


def _require_aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise UsageError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Submission:
    """The fields of one submission; see ``NewSubmission`` for their meaning.

    The repr leaves out the payloads and the NIR, so that a logged record leaks neither.
    """

    id: str
    key_system: str
    key_value: str
    content_hash: str
    media_type: str
    raw: bytes | None = field(repr=False)  # None once purged (``Tx.purge_bodies``)
    request_json: str | None = field(repr=False)  # None once purged
    amo_decision_json: str = field(repr=False)
    amc_decision_json: str | None = field(repr=False)
    findings_json: str = field(repr=False)
    response_json: bytes = field(repr=False)
    amo_response_id: str
    amc_response_id: str | None
    patient_nir: str = field(repr=False)
    provider_finess: str | None
    provider_siret: str | None
    amo_organisme: str
    amc_number: str | None
    claim_identifier_system: str | None
    claim_identifier_value: str | None
    use: str
    outcome: str
    client_id: str
    received_at: datetime
    stored_at: datetime
    state: str = "complete"
    version: int = 1
    updated_at: datetime | None = None
    dead_reason: str | None = None

    def __post_init__(self) -> None:
        _require_aware("received_at", self.received_at)
        _require_aware("stored_at", self.stored_at)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewSubmission(_Submission):
    """A submission to store.

    ``id`` is a UUID string (also the stored Claim's id); ``key_system``/``key_value`` the
    Bundle.identifier idempotency key; ``content_hash`` the SHA-256 hex of the canonical
    content, compared on replay; ``raw`` and ``media_type`` the body exactly as received;
    the ``*_json`` fields are the caller's own JSON text (the store does not interpret them);
    ``response_json`` the exact response bytes, replayed byte for byte. The organisation
    fields drive search and visibility. ``state`` is ``complete``, or ``pending`` while remote
    payers have not decided (the answer is then ``queued``), or ``dead`` when they never did;
    ``version`` counts the answers the submission has had.
    """


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredSubmission(_Submission):
    """A submission read back from the store (same fields as ``NewSubmission``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxEvent:
    """An outbox event leased to a worker; ``attempts`` counts leases, this one included."""

    id: int
    topic: str
    payload: dict[str, Any] = field(hash=False)
    created_at: datetime
    attempts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NewDelivery:
    """One event for one target of one destination, as the dispatcher fans an outbox event out."""

    event_id: str
    event_type: str
    claim_id: str
    tenant: str
    destination: str
    target: str
    event_json: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDelivery:
    """A delivery as stored: ``state`` is ``pending``, ``delivered`` or ``dead``; ``attempts`` the
    sends tried; ``last_error`` the last failed send's reason."""

    id: int
    event_id: str
    event_type: str
    claim_id: str
    tenant: str
    destination: str
    target: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None
    event_json: str = field(repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredSubscription:
    """A subscription as stored: ``grants_json`` holds the owner's read grants when it subscribed
    (the rule of ``adapter.access``), ``outcomes`` the criteria's outcomes, comma-separated (empty:
    all), ``secret_sealed`` the signing secret as ``adapter.notify.SecretBox`` sealed it."""

    id: str
    client_id: str
    grants_json: str
    criteria: str
    outcomes: str
    endpoint: str
    content: str
    secret_sealed: bytes = field(repr=False)
    reason: str
    status: str
    error: str | None
    end_at: datetime | None
    events_since_start: int
    created_at: datetime
    updated_at: datetime

    def __post_init__(self) -> None:
        _require_aware("created_at", self.created_at)
        _require_aware("updated_at", self.updated_at)
