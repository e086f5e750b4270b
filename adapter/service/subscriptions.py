"""Subscriptions on the store: registration with its handshake, reads, and the notifications.

A subscription is stored ``requested``, then the handshake (a signed ``handshake`` notification,
the R4 backport's) goes to its endpoint: a 2xx makes it ``active``, anything else ``error`` with
the reason. The owner's read grants are kept with it, so that the worker, which has no caller,
notifies a subscription only of claims its owner may read (``adapter.access``).

The notifications are a destination of the dispatcher (``adapter.service.dispatch``), so that
nothing is lost and a retry survives a restart: a claim's final event (completed, dead-lettered,
cancelled) becomes one delivery per active subscription whose owner may read the claim and whose
criteria match; each is posted, signed, numbered (the backport's event number, kept per
subscription and event, so that a retry carries the same one) and identified by the event's id.
The dispatcher retries with backoff; a notification it gives up on comes back as
``delivery.failed`` and puts its subscription in ``error`` with the reason, visible to its owner.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import structlog

from adapter.access import Caller, may_read
from adapter.delivery import Event, Sent
from adapter.domain.subscription import PayloadContent, SubscriptionStatus, SubscriptionView
from adapter.intake import Format, Limits, read_subscription_body
from adapter.notify import Delivery, SecretBox
from adapter.service.port import Answer, SearchPage
from adapter.store import Store, StoredSubscription, Tx
from mappings.fhir import jsonio
from mappings.outbound import NotificationEvent, to_notification, to_subscription
from mappings.systems import Canon

__all__ = [
    "EVENT_TYPES",
    "KIND",
    "Notifier",
    "StoreSubscriptions",
    "SubscriptionDestination",
    "SubscriptionSettings",
]

#: The events a subscriber hears of: a claim's final answer, its dead letter, its cancellation.
EVENT_TYPES: tuple[str, ...] = ("claim.completed", "claim.dead-letter", "claim.cancelled")
#: The dispatcher's name for this destination (in the deliveries table and the metrics).
KIND = "subscription"
DELIVERY_FAILED = "delivery.failed"

_log = structlog.get_logger("adapter.subscriptions")


class Notifier(Protocol):
    """Posts one signed notification (``adapter.notify.RestHook``)."""

    async def post(
        self, endpoint: str, body: bytes, *, secret: str, event_id: str, event_number: int | None
    ) -> Delivery: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SubscriptionSettings:
    """``allow_http``: plain-http endpoints anywhere (else loopback only); ``base_url``: the
    adapter's public base, for the references in notifications (relative references when empty)."""

    allow_http: bool = False
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


def _view(row: StoredSubscription, now: datetime | None = None) -> SubscriptionView:
    """The owner's view; an active subscription past its ``end`` (at ``now``) reads ``off``."""
    status = SubscriptionStatus(row.status)
    if (
        status is SubscriptionStatus.ACTIVE
        and now is not None
        and row.end_at is not None
        and row.end_at <= now
    ):
        status = SubscriptionStatus.OFF
    return SubscriptionView(
        id=row.id,
        criteria=row.criteria,
        endpoint=row.endpoint,
        content=PayloadContent(row.content),
        reason=row.reason,
        status=status,
        error=row.error,
        end=row.end_at,
        events_since_start=row.events_since_start,
    )


def _outcome(bundle: Any) -> str | None:
    """The claim's outcome: the worst of its ClaimResponses' (as the store keeps it)."""
    outcomes = [str(resource.get("outcome")) for resource in _claim_responses(bundle)]
    for worst in ("error", "partial", "queued", "complete"):
        if worst in outcomes:
            return worst
    return None


@dataclass(frozen=True, slots=True)
class _Listener:
    """An active subscription as the fan-out sees it: who owns it and which outcomes it wants."""

    id: str
    owner: Caller
    outcomes: frozenset[str]

    def wants(self, event: Event) -> bool:
        if self.outcomes and _outcome(event.resource) not in self.outcomes:
            return False
        return may_read(
            self.owner,
            {
                "client_id": event.tenant,
                "provider_finess": event.provider_finess,
                "provider_siret": event.provider_siret,
                "amc_number": event.amc_number,
            },
        )


class SubscriptionDestination:
    """The subscriptions as a destination of the dispatcher (``adapter.delivery.Destination``):
    one target per active subscription whose owner may read the claim and whose criteria match,
    each notified on its own (retries, backoff and dead letters are the dispatcher's). The dead
    letter of a notification comes back as ``delivery.failed``, and puts its subscription in
    ``error``."""

    kind = KIND

    def __init__(self, service: StoreSubscriptions) -> None:
        self.service = service
        self._listeners: tuple[_Listener, ...] = ()

    def prepare(self, tx: Tx, *, now: datetime) -> None:
        """Read the active subscriptions, in the fan-out's transaction."""
        self._listeners = tuple(
            _Listener(row.id, _owner(row), frozenset(code for code in row.outcomes.split(",") if code))
            for row in tx.active_subscriptions(now=now)
        )

    def targets(self, event: Event) -> Sequence[str]:
        if event.type == DELIVERY_FAILED:
            failed = event.detail.get("target", "")
            if event.detail.get("destination") != KIND:
                return ()
            return tuple(listener.id for listener in self._listeners if listener.id == failed)
        if event.type not in EVENT_TYPES:
            return ()
        return tuple(listener.id for listener in self._listeners if listener.wants(event))

    async def send(self, event: Event, target: str) -> Sent:
        return await self.service.notify(event, target)

    async def close(self) -> None:
        """Nothing of its own: the service's notifier is closed with the service."""


def _claim_responses(bundle: Any) -> list[dict[str, Any]]:
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
        return None if row is None else self._answer(_view(row, self.clock()))

    def subscriptions(self, *, caller: Caller, offset: int = 0, count: int = 20) -> SearchPage:
        with self.store.read() as tx:
            rows, total = tx.subscriptions_of(caller.client_id, offset=offset, limit=count)
        following = offset + len(rows)
        return SearchPage(
            resources=[to_subscription(_view(row, self.clock())) for row in rows],
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

    # -- the dispatcher's destination -----------------------------------------------------

    async def close(self) -> None:
        """Close the notifier's connections."""
        await self.notifier.aclose()

    def destination(self) -> SubscriptionDestination:
        """The destination through which the dispatcher notifies the subscriptions."""
        return SubscriptionDestination(self)

    async def notify(self, event: Event, subscription_id: str) -> Sent:
        """Post ``event`` to one subscription, signed and numbered; or, for the dead letter of one
        of its notifications, put the subscription in ``error`` with the reason."""
        if event.type == DELIVERY_FAILED:
            reason = event.detail.get("reason", "") or "no reason given"
            await asyncio.to_thread(
                self._set_status, subscription_id, SubscriptionStatus.ERROR,
                f"a notification could not be delivered: {reason}", ("active",),
            )  # fmt: skip
            _log.warning(
                "subscription.error", subscription=subscription_id, event_type=event.detail.get("event_type")
            )
            return Sent.delivered()
        prepared = await asyncio.to_thread(self._number, event, subscription_id)
        if prepared is None:
            return Sent.failed("the subscription was deleted, or is no longer active")
        view, secret, number = prepared
        responses = _claim_responses(event.resource)
        notification = NotificationEvent(
            number=number,
            timestamp=event.time,
            response_ids=[str(resource.get("id")) for resource in responses],
            resources=responses if view.content is PayloadContent.FULL_RESOURCE else (),
        )
        # The same bytes on every attempt: stamped with the event's time, counting up to this event.
        delivery = await self._send(
            replace(view, events_since_start=number), secret, kind="event-notification",
            events=(notification,), event_number=number, event_id=event.id, at=event.time,
        )  # fmt: skip
        if delivery.ok:
            return Sent.delivered()
        reason = delivery.reason or "the endpoint refused the notification"
        return Sent.failed(reason) if delivery.permanent else Sent.retry(reason)

    def _number(self, event: Event, subscription_id: str) -> tuple[SubscriptionView, str, int] | None:
        """The subscription (still there and active), its secret, and the event's number for it."""
        with self.store.write(lock_keys=(f"subscription:{subscription_id}",)) as tx:
            row = tx.subscription(subscription_id, client_id=None)
            if row is None or row.status != SubscriptionStatus.ACTIVE.value:
                return None
            number = tx.event_number(subscription_id, event.id, at=self.clock())
        return _view(row), self.box.open(row.secret_sealed, context=row.id), number

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
