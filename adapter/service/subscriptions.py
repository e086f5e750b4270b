"""Subscriptions on the store: registration with its handshake, reads, and the notifications.

A subscription is stored ``requested``, then the handshake (a signed ``handshake`` notification,
the R4 backport's) goes to its endpoint: a 2xx makes it ``active``, anything else ``error`` with
the reason. The owner's read grants are kept with it, so that the worker, which has no caller,
notifies a subscription only of claims its owner may read (``adapter.access``).

The worker's side goes through the outbox, so that nothing is lost and a retry survives a
restart: a final claim event (completed, dead-lettered, cancelled) is fanned out, in the same
transaction that marks it done, into one ``subscription.notification`` event per matching active
subscription, numbered there (the backport's event number) and given its event id. Each is
posted, signed; a failure leases it again after a backoff that doubles, and when its attempts
run out the subscription goes to ``error`` with the reason, visible to its owner.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

import structlog

from adapter.access import Caller, may_read
from adapter.domain.subscription import PayloadContent, SubscriptionStatus, SubscriptionView
from adapter.intake import Format, Limits, read_subscription_body
from adapter.notify import Delivery, SecretBox
from adapter.service.port import Answer, SearchPage
from adapter.store import OutboxEvent, Store, StoredSubmission, StoredSubscription
from mappings.fhir import jsonio
from mappings.outbound import NotificationEvent, to_notification, to_subscription
from mappings.systems import Canon

__all__ = [
    "CLAIM_TOPICS",
    "NOTIFICATION_TOPIC",
    "Notifier",
    "StoreSubscriptions",
    "SubscriptionSettings",
]

#: The outbox topics a subscriber hears of: a pended claim completed or dead-lettered, a claim cancelled.
CLAIM_TOPICS: tuple[str, ...] = ("claim.completed", "claim.dead-letter", "claim.cancelled")
#: One notification to one subscription (the worker posts it).
NOTIFICATION_TOPIC = "subscription.notification"

_log = structlog.get_logger("adapter.subscriptions")


class Notifier(Protocol):
    """Posts one signed notification (``adapter.notify.RestHook``)."""

    async def post(
        self, endpoint: str, body: bytes, *, secret: str, event_id: str, event_number: int | None
    ) -> Delivery: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SubscriptionSettings:
    """``allow_http``: plain-http endpoints anywhere (else loopback only); ``retry``: the first
    backoff, doubled at each failure up to ``retry_max``; ``max_attempts``: posts of one
    notification before the subscription goes to ``error``; ``base_url``: the adapter's public
    base, for the references in notifications (relative references when empty)."""

    allow_http: bool = False
    retry: timedelta = timedelta(seconds=5)
    retry_max: timedelta = timedelta(minutes=10)
    max_attempts: int = 8
    base_url: str = ""


def _grants(caller: Caller) -> str:
    return json.dumps(
        {
            "client_id": caller.client_id,
            "finess": sorted(caller.finess),
            "siret": sorted(caller.siret),
            "amc": sorted(caller.amc),
            "everything": caller.everything,
        },
        sort_keys=True,
    )


def _owner(row: StoredSubscription) -> Caller:
    grants = json.loads(row.grants_json)
    return Caller(
        client_id=grants["client_id"],
        finess=frozenset(grants["finess"]),
        siret=frozenset(grants["siret"]),
        amc=frozenset(grants["amc"]),
        everything=bool(grants["everything"]),
    )


def _view(row: StoredSubscription) -> SubscriptionView:
    return SubscriptionView(
        id=row.id,
        criteria=row.criteria,
        endpoint=row.endpoint,
        content=PayloadContent(row.content),
        reason=row.reason,
        status=SubscriptionStatus(row.status),
        error=row.error,
        end=row.end_at,
        events_since_start=row.events_since_start,
    )


def _matches(subscription: StoredSubscription, claim: StoredSubmission) -> bool:
    outcomes = {code for code in subscription.outcomes.split(",") if code}
    if outcomes and claim.outcome not in outcomes:
        return False
    return may_read(
        _owner(subscription),
        {
            "client_id": claim.client_id,
            "provider_finess": claim.provider_finess,
            "provider_siret": claim.provider_siret,
            "amc_number": claim.amc_number,
        },
    )


def _claim_responses(claim: StoredSubmission) -> list[dict[str, Any]]:
    bundle = jsonio.loads(claim.response_json)
    entries = bundle.get("entry", []) if isinstance(bundle, dict) else []
    return [
        entry["resource"]
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("resource"), dict)
        and entry["resource"].get("resourceType") == "ClaimResponse"
    ]  # fmt: skip


class StoreSubscriptions:
    """``SubscriptionService`` on a ``Store``, and the worker's handlers of its outbox topics."""

    def __init__(
        self,
        store: Store,
        *,
        notifier: Notifier,
        box: SecretBox,
        canon: Canon,
        clock: Callable[[], datetime],
        settings: SubscriptionSettings | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.box = box
        self.canon = canon
        self.clock = clock
        self.settings = settings or SubscriptionSettings()
        self.limits = limits or Limits()

    # -- the owner's interactions ----------------------------------------------------------

    async def create(self, data: bytes, fmt: Format, *, caller: Caller, now: datetime) -> Answer:
        spec = read_subscription_body(
            data, fmt, canon=self.canon, allow_http=self.settings.allow_http, now=now, limits=self.limits
        )
        subscription_id = str(uuid.uuid4())
        row = StoredSubscription(
            id=subscription_id,
            client_id=caller.client_id,
            grants_json=_grants(caller),
            criteria=spec.criteria,
            outcomes=",".join(sorted(spec.outcomes)),
            endpoint=spec.endpoint,
            content=spec.content.value,
            secret_sealed=self.box.seal(spec.secret, context=subscription_id),
            reason=spec.reason,
            status=SubscriptionStatus.REQUESTED.value,
            error=None,
            end_at=spec.end,
            events_since_start=0,
            created_at=now,
            updated_at=now,
        )
        await asyncio.to_thread(self._insert, row)
        view = _view(row)
        delivery = await self._send(view, spec.secret, kind="handshake", events=(), event_number=None)
        status, error = (
            (SubscriptionStatus.ACTIVE, None)
            if delivery.ok
            else (SubscriptionStatus.ERROR, f"handshake failed: {delivery.reason}")
        )
        await asyncio.to_thread(self._set_status, subscription_id, status, error, ("requested",))
        _log.info(
            "subscription.created", subscription=subscription_id, client_id=caller.client_id, status=status
        )
        stored = await asyncio.to_thread(self._read, subscription_id, caller.client_id)
        if stored is None:  # deleted by its owner meanwhile
            return self._answer(_view(row))
        return self._answer(_view(stored))

    def subscription(self, subscription_id: str, *, caller: Caller) -> Answer | None:
        row = self._read(subscription_id, caller.client_id)
        return None if row is None else self._answer(_view(row))

    def subscriptions(self, *, caller: Caller, offset: int = 0, count: int = 20) -> SearchPage:
        with self.store.read() as tx:
            rows, total = tx.subscriptions_of(caller.client_id, offset=offset, limit=count)
        following = offset + len(rows)
        return SearchPage(
            resources=[to_subscription(_view(row)) for row in rows],
            total=total,
            next_offset=following if count and following < total else None,
            previous_offset=max(offset - count, 0) if offset > 0 and count else None,
        )

    def delete(self, subscription_id: str, *, caller: Caller, now: datetime) -> bool:
        with self.store.write(lock_keys=(f"subscription:{subscription_id}",)) as tx:
            deleted = tx.delete_subscription(subscription_id, client_id=caller.client_id)
            if deleted:
                tx.audit(
                    action="unsubscribe", outcome="deleted", client_id=caller.client_id,
                    submission_id=None, request_id=None, at=now,
                )  # fmt: skip
        return deleted

    # -- the worker's handlers -------------------------------------------------------------

    def handlers(self) -> dict[str, Callable[[OutboxEvent], Awaitable[None]]]:
        """The outbox topics this service consumes, each with its handler."""
        handlers: dict[str, Callable[[OutboxEvent], Awaitable[None]]] = dict.fromkeys(
            CLAIM_TOPICS, self.fan_out
        )
        handlers[NOTIFICATION_TOPIC] = self.deliver
        return handlers

    async def close(self) -> None:
        """Close the notifier's connections."""
        await self.notifier.aclose()

    async def fan_out(self, event: OutboxEvent) -> None:
        """A final claim event → one notification event per matching active subscription."""
        count = await asyncio.to_thread(self._fan_out, event)
        if count:
            _log.info("subscription.fan_out", topic=event.topic, notifications=count)

    def _fan_out(self, event: OutboxEvent) -> int:
        now = self.clock()
        claim_id = event.payload.get("submission")
        count = 0
        with self.store.write() as tx:
            claim = tx.submission_by_id(claim_id) if isinstance(claim_id, str) else None
            if claim is not None:
                for subscription in tx.active_subscriptions(now=now):
                    if not _matches(subscription, claim):
                        continue
                    number = tx.next_event_number(subscription.id)
                    tx.enqueue(
                        topic=NOTIFICATION_TOPIC,
                        payload={
                            "subscription": subscription.id,
                            "event_id": str(uuid.uuid4()),
                            "event_number": number,
                            "claim": claim.id,
                            "topic": event.topic,
                            "at": now,
                        },
                        at=now,
                    )
                    count += 1
            tx.complete(event.id, now)  # with the notifications, or not at all
        return count

    async def deliver(self, event: OutboxEvent) -> None:
        """Post one notification; on failure lease it again after a backoff, and after the last
        attempt put its subscription in ``error``."""
        prepared = await asyncio.to_thread(self._prepare, event)
        if prepared is None:
            await asyncio.to_thread(self._done, event)
            return
        view, secret, notification = prepared
        number = int(event.payload["event_number"])
        # The same bytes on every attempt: stamped with the event's time, counting up to this event.
        delivery = await self._send(
            replace(view, events_since_start=number), secret, kind="event-notification",
            events=(notification,), event_number=number, event_id=str(event.payload["event_id"]),
            at=notification.timestamp,
        )  # fmt: skip
        if delivery.ok:
            await asyncio.to_thread(self._done, event)
            return
        if event.attempts >= self.settings.max_attempts:
            reason = (
                f"{event.attempts} attempts to deliver event {number} failed; the last: {delivery.reason}"
            )
            await asyncio.to_thread(self._set_status, view.id, SubscriptionStatus.ERROR, reason, ("active",))
            await asyncio.to_thread(self._done, event)
            _log.warning(
                "subscription.error", subscription=view.id, event_number=number, reason=delivery.reason
            )
            return
        delay = min(self.settings.retry * 2 ** (event.attempts - 1), self.settings.retry_max)
        await asyncio.to_thread(self._postpone, event, self.clock() + delay)
        _log.info(
            "subscription.retry", subscription=view.id, event_number=number, attempt=event.attempts,
            delay_seconds=delay.total_seconds(), reason=delivery.reason,
        )  # fmt: skip

    def _prepare(self, event: OutboxEvent) -> tuple[SubscriptionView, str, NotificationEvent] | None:
        """The subscription (active, still there), its secret and the event; None: nothing to send."""
        subscription_id, claim_id = event.payload.get("subscription"), event.payload.get("claim")
        if not isinstance(subscription_id, str) or not isinstance(claim_id, str):
            return None
        with self.store.read() as tx:
            row = tx.subscription(subscription_id, client_id=None)
            claim = tx.submission_by_id(claim_id)
        if row is None or claim is None or row.status != SubscriptionStatus.ACTIVE.value:
            return None
        if not _matches(row, claim):
            return None
        responses = _claim_responses(claim)
        at = event.payload.get("at")
        notification = NotificationEvent(
            number=int(event.payload["event_number"]),
            timestamp=datetime.fromisoformat(at) if isinstance(at, str) else event.created_at,
            response_ids=[str(resource.get("id")) for resource in responses],
            resources=responses if row.content == PayloadContent.FULL_RESOURCE.value else (),
        )
        return _view(row), self.box.open(row.secret_sealed, context=row.id), notification

    # -- shared ----------------------------------------------------------------------------

    async def _send(
        self,
        view: SubscriptionView,
        secret: str,
        *,
        kind: str,
        events: tuple[NotificationEvent, ...],
        event_number: int | None,
        event_id: str | None = None,
        at: datetime | None = None,
    ) -> Delivery:
        """Sign and post one notification; ``at`` stamps the Bundle (now by default), so that a
        retried notification is the same bytes."""
        event_id = event_id or str(uuid.uuid4())
        bundle = to_notification(
            bundle_id=event_id,
            view=view,
            kind=kind,
            events=events,
            base_url=self.settings.base_url,
            canon=self.canon,
            now=at or self.clock(),
        )
        return await self.notifier.post(
            view.endpoint, jsonio.dumps(bundle), secret=secret, event_id=event_id, event_number=event_number
        )

    def _answer(self, view: SubscriptionView) -> Answer:
        resource = to_subscription(view)
        return Answer(resource=resource, json=jsonio.dumps(resource))

    def _insert(self, row: StoredSubscription) -> None:
        with self.store.write(lock_keys=(f"subscription:{row.id}",)) as tx:
            tx.insert_subscription(row)
            tx.audit(
                action="subscribe", outcome=row.status, client_id=row.client_id, submission_id=None,
                request_id=None, at=row.created_at,
            )  # fmt: skip

    def _read(self, subscription_id: str, client_id: str) -> StoredSubscription | None:
        with self.store.read() as tx:
            return tx.subscription(subscription_id, client_id=client_id)

    def _set_status(
        self, subscription_id: str, status: SubscriptionStatus, error: str | None, only_if: tuple[str, ...]
    ) -> None:
        with self.store.write(lock_keys=(f"subscription:{subscription_id}",)) as tx:
            tx.set_subscription_status(
                subscription_id, status=status.value, error=error, at=self.clock(), only_if=only_if
            )

    def _done(self, event: OutboxEvent) -> None:
        with self.store.write() as tx:
            tx.complete(event.id, self.clock())

    def _postpone(self, event: OutboxEvent, until: datetime) -> None:
        with self.store.write() as tx:
            tx.postpone(event.id, until=until)
