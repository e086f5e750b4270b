"""The dispatcher: outbox events fanned out to the destinations, delivered at least once.

Two steps, each a short transaction, run by the worker in every round:

1. **Fan-out.** Under one lock (``DISPATCH_LOCK``), the outbox events not yet dispatched,
   oldest first, become their events (``adapter.service.events``) and one delivery row per
   (event, destination, target) that the destination's ``targets`` names; the outbox events
   are stamped dispatched in the same transaction. Never from inside a request's transaction:
   the submit only writes its outbox event.
2. **Delivery.** Due deliveries are leased (each the earliest pending one of its claim for its
   target, so a claim's events arrive in order) and sent outside any transaction. Delivered:
   done. Retry later: due again after an exponential backoff with jitter (at least the
   receiver's ``Retry-After``), until ``max_attempts``; then, or at once when the receiver
   refused it for good, the delivery is **dead**, with its reason, and a ``delivery.failed``
   event is enqueued for the event stream. A worker that dies mid-send leaves the delivery
   leased; the lease runs out and it is sent again: at least once.

A destination is anything that implements ``adapter.delivery.Destination`` (docs/delivery.md);
one whose targets depend on stored state (the subscriptions) also implements
``PreparedDestination``, and reads that state in the fan-out's transaction.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import structlog

from adapter.delivery import Destination, Event, SendStatus, Sent
from adapter.intake import Format
from adapter.service.claims import StoreService
from adapter.service.events import build_events, event_from_json, event_json
from adapter.store import DISPATCH_LOCK, NewDelivery, StoredDelivery, StoredSubmission, Tx
from mappings.fhir import jsonio

__all__ = ["DELIVERY_FAILED_TOPIC", "DispatchSettings", "Dispatcher", "Observer", "PreparedDestination"]

DELIVERY_FAILED_TOPIC = "delivery.failed"
_log = structlog.get_logger("adapter.dispatch")

#: Called after each send: (destination kind, target, result), result ``delivered``, ``retry`` or ``dead``.
Observer = Callable[[str, str, str], None]


@runtime_checkable
class PreparedDestination(Protocol):
    """A destination whose targets depend on stored state (the subscriptions): ``prepare`` reads
    it in the fan-out's transaction, before ``targets`` is asked, which then does no I/O."""

    def prepare(self, tx: Tx, *, now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    """``max_attempts``: sends of one delivery before it is dead; ``initial`` and ``max_backoff``:
    the first wait after a failed send and the longest (seconds, doubling, with jitter);
    ``lease``: how long a send may take before another worker sends it again; ``batch``: outbox
    events fanned out, and deliveries sent, per round; ``retention``: how long a delivered row
    is kept."""

    max_attempts: int = 10
    initial: float = 1.0
    max_backoff: float = 300.0
    lease: timedelta = timedelta(seconds=60)
    batch: int = 50
    retention: timedelta = timedelta(days=7)


class Dispatcher:
    """Fans the outbox out to ``destinations`` and delivers; driven by the worker's rounds."""

    def __init__(
        self,
        service: StoreService,
        destinations: Sequence[Destination],
        *,
        clock: Callable[[], datetime],
        name: str,
        settings: DispatchSettings | None = None,
        observe: Observer | None = None,
        seed: int | None = None,
    ) -> None:
        self.service = service
        self.destinations: Mapping[str, Destination] = {d.kind: d for d in destinations}
        self.clock = clock
        self.name = name
        self.settings = settings or DispatchSettings()
        self.observe = observe
        self._jitter = random.Random(seed)  # noqa: S311 - spreading retries, not security

    # -- fan-out ------------------------------------------------------------------------
    def _bundle_of(self, row: StoredSubmission) -> Mapping[str, Any] | None:
        """The stored body as a Bundle dict: JSON parsed as it is (it passed intake when stored),
        XML read through intake; None once purged."""
        if row.raw is None:
            return None
        if not row.media_type.endswith("xml"):
            bundle = jsonio.loads(row.raw)
            return bundle if isinstance(bundle, dict) else None
        return self.service.flow.read(row.raw, Format.XML).bundle

    def fan_out(self) -> int:
        """Turn the undispatched outbox events into deliveries; how many outbox events it took."""
        now = self.clock()
        with self.service.store.write(lock_keys=(DISPATCH_LOCK,)) as tx:
            outbox = tx.undispatched(limit=self.settings.batch)
            if outbox:
                for destination in self.destinations.values():
                    if isinstance(destination, PreparedDestination):
                        destination.prepare(tx, now=now)
            new: list[NewDelivery] = []
            for item in outbox:
                for event in build_events(tx, item, bundle_of=self._bundle_of):
                    text: str | None = None
                    for destination in self.destinations.values():
                        for target in destination.targets(event):
                            text = text or event_json(event)
                            new.append(
                                NewDelivery(
                                    event_id=event.id,
                                    event_type=event.type,
                                    claim_id=event.claim,
                                    tenant=event.tenant,
                                    destination=destination.kind,
                                    target=target,
                                    event_json=text,
                                )
                            )
            if outbox:
                tx.add_deliveries(new, dispatched=[item.id for item in outbox], now=now)
        return len(outbox)

    # -- delivery -----------------------------------------------------------------------
    def _lease(self) -> list[StoredDelivery]:
        now = self.clock()
        with self.service.store.write() as tx:
            return tx.lease_deliveries(
                self.name, limit=self.settings.batch, now=now, lease=self.settings.lease
            )

    def backoff(self, attempts: int, hint: float | None = None) -> float:
        """Seconds before the next send after ``attempts`` failed ones: doubling from ``initial``,
        at most ``max_backoff``, between half and all of it (jitter), at least ``hint``."""
        ceiling = min(self.settings.max_backoff, self.settings.initial * 2 ** max(0, attempts - 1))
        wait = ceiling * (0.5 + self._jitter.random() / 2)
        return float(max(wait, hint or 0.0))

    async def deliver_once(self) -> int:
        """Send one batch of due deliveries; how many were sent."""
        leased = await asyncio.to_thread(self._lease)
        if leased:
            await asyncio.gather(*(self._deliver(delivery) for delivery in leased))
        return len(leased)

    async def _deliver(self, delivery: StoredDelivery) -> None:
        destination = self.destinations.get(delivery.destination)
        event = event_from_json(delivery.event_json)
        if destination is None:
            sent = Sent.retry(f"destination {delivery.destination!r} is not configured in this process")
        else:
            try:
                sent = await destination.send(event, delivery.target)
            except Exception as exc:  # a destination's bug must not stop the others
                _log.warning(
                    "delivery.error", delivery=delivery.id, destination=delivery.destination, exc_info=True
                )
                sent = Sent.retry(f"{type(exc).__name__}: {exc}")
        await asyncio.to_thread(self._settle, delivery, event, sent)

    def _settle(self, delivery: StoredDelivery, event: Event, sent: Sent) -> None:
        now = self.clock()
        fields = {"delivery": delivery.id, "destination": delivery.destination, "target": delivery.target}
        if sent.status is SendStatus.DELIVERED:
            with self.service.store.write() as tx:
                tx.settle_delivery(delivery.id, state="delivered", now=now)
            self._observed(delivery, "delivered")
            _log.info(
                "delivery.delivered", **fields, event_type=delivery.event_type, attempt=delivery.attempts
            )
            return
        reason = sent.reason or sent.status.value
        if sent.status is SendStatus.RETRY and delivery.attempts < self.settings.max_attempts:
            due = now + timedelta(seconds=self.backoff(delivery.attempts, sent.retry_after))
            with self.service.store.write() as tx:
                tx.settle_delivery(delivery.id, state="pending", now=now, next_attempt_at=due, error=reason)
            self._observed(delivery, "retry")
            _log.info("delivery.retry", **fields, attempt=delivery.attempts, reason=reason)
            return
        with self.service.store.write() as tx:
            if tx.settle_delivery(delivery.id, state="dead", now=now, error=reason):
                tx.enqueue(
                    topic=DELIVERY_FAILED_TOPIC,
                    payload={
                        "submission": delivery.claim_id,
                        "delivery": delivery.id,
                        "destination": delivery.destination,
                        "target": delivery.target,
                        "event": event.id,
                        "event_type": event.type,
                        "reason": reason,
                    },
                    at=now,
                )
        self._observed(delivery, "dead")
        _log.warning("delivery.dead_letter", **fields, attempts=delivery.attempts, reason=reason)

    def _observed(self, delivery: StoredDelivery, result: str) -> None:
        if self.observe is not None:
            self.observe(delivery.destination, delivery.target, result)

    # -- the worker's round ------------------------------------------------------------------
    async def run_once(self) -> int:
        """Fan out, then deliver: the outbox events and deliveries handled (0: nothing to do)."""
        fanned = await asyncio.to_thread(self.fan_out)
        sent = await self.deliver_once()
        return fanned + sent

    def prune(self, now: datetime) -> int:
        with self.service.store.write() as tx:
            return tx.prune_deliveries(delivered_before=now - self.settings.retention)

    async def close(self) -> None:
        for destination in self.destinations.values():
            await destination.close()
