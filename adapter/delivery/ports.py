"""The destinations' extension point: what an event is, and what a destination must do with it.

A destination has a ``kind`` (``mutuelle``, ``events``, …), names the targets an event has for
it (none when the event is not for it: a mutuelle only gets decisions, and only when its AMC
number has a delivery route), and sends one event to one target, answering delivered, retry
later, or failed for good, with the reason. The dispatcher does everything else: one delivery
row per (event, destination, target), in order per claim, retries with backoff, the dead
letters, the operator's view and the metrics. A destination keeps no state of its own that
must survive a restart, and must accept the same event twice: delivery is at least once, and
the event id is the receiver's deduplication key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

__all__ = ["EVENT_TYPES", "Destination", "Event", "SendStatus", "Sent"]

#: Every event type, in the order a claim may go through them.
EVENT_TYPES = (
    "claim.accepted",
    "claim.pended",
    "claim.adjudicated",
    "claim.completed",
    "claim.dead-letter",
    "claim.cancelled",
    "delivery.failed",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One thing that happened to a claim, as every destination sees it.

    ``id`` is a UUID, the same on every delivery and every retry of this event (the receivers'
    deduplication key); ``tenant`` the submitting client; ``time`` when it happened (the outbox
    event's time); ``claim`` the stored Claim's id; ``resource`` the FHIR resource it carries
    (the claim's answer Bundle at that point, or an OperationOutcome for ``delivery.failed``);
    ``amc_number`` the claim's AMC number (None without an AMC leg); ``member`` the resources
    that identify the beneficiary to the mutuelle (Patient and the AMC Coverage), only on
    ``claim.adjudicated`` and only while the submitted body is kept; ``detail`` what else a
    destination may use (for ``delivery.failed``: the failed delivery's destination and target);
    ``provider_finess`` and ``provider_siret`` the claim's provider, so that a destination can
    apply the read rule (``adapter.access``) to its targets without reading the store.
    """

    id: str
    type: str
    tenant: str
    time: datetime
    claim: str
    resource: dict[str, Any] = field(repr=False)
    amc_number: str | None = None
    member: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    detail: Mapping[str, str] = field(default_factory=dict)
    provider_finess: str | None = None
    provider_siret: str | None = None


class SendStatus(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # try again later (a fault, a timeout, a 5xx, a broker down)
    FAILED = "failed"  # permanent: the receiver refused it (a 4xx); goes to the dead letters


@dataclass(frozen=True, slots=True)
class Sent:
    """What one send gave: the status, the reason when it did not deliver (the receiver's answer,
    shortened), and the receiver's own hint of when to try again (seconds)."""

    status: SendStatus
    reason: str | None = None
    retry_after: float | None = None

    @classmethod
    def delivered(cls) -> Sent:
        return cls(SendStatus.DELIVERED)

    @classmethod
    def retry(cls, reason: str, retry_after: float | None = None) -> Sent:
        return cls(SendStatus.RETRY, reason, retry_after)

    @classmethod
    def failed(cls, reason: str) -> Sent:
        return cls(SendStatus.FAILED, reason)


class Destination(Protocol):
    """Where events go. ``kind`` names it in the deliveries table, the operator's view and the
    metrics (a short, stable word); ``targets`` says to which of its targets an event goes (an
    empty sequence: not for this destination), each a short stable name (a mutuelle route's name,
    an exchange); ``send`` delivers one event to one target. ``close`` releases connections."""

    @property
    def kind(self) -> str: ...

    def targets(self, event: Event) -> Sequence[str]: ...

    async def send(self, event: Event, target: str) -> Sent: ...

    async def close(self) -> None: ...
