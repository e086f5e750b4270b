"""A client's subscription to its ClaimResponses, as plain values (no FHIR, no I/O).

``SubscriptionSpec`` is what a client asked for (read from its FHIR ``Subscription`` by
``mappings.inbound``); ``SubscriptionView`` is what the adapter holds about it, minus the
signing secret, which never leaves the store but to sign.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = [
    "FINAL_OUTCOMES",
    "PayloadContent",
    "SubscriptionSpec",
    "SubscriptionStatus",
    "SubscriptionView",
]

#: The outcomes a completed claim can have: what a criteria's ``outcome`` may name.
FINAL_OUTCOMES: tuple[str, ...] = ("complete", "error", "partial")


class SubscriptionStatus(StrEnum):
    """R4 ``Subscription.status``: ``requested`` until the handshake, ``active`` once the endpoint
    acknowledged it, ``error`` when it refused it or kept failing, ``off`` past its ``end``."""

    REQUESTED = "requested"
    ACTIVE = "active"
    ERROR = "error"
    OFF = "off"


class PayloadContent(StrEnum):
    """How much a notification carries (the backport's ``backport-payload-content``)."""

    EMPTY = "empty"
    ID_ONLY = "id-only"
    FULL_RESOURCE = "full-resource"


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionSpec:
    """A rest-hook subscription as asked: ``outcomes`` narrows the completions notified (empty:
    every one); ``secret`` signs every notification (kept out of the repr)."""

    criteria: str
    outcomes: frozenset[str]
    endpoint: str
    content: PayloadContent
    secret: str = field(repr=False)
    reason: str
    end: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionView:
    """A stored subscription as its owner reads it: no secret."""

    id: str
    criteria: str
    endpoint: str
    content: PayloadContent
    reason: str
    status: SubscriptionStatus
    error: str | None
    end: datetime | None
    events_since_start: int
