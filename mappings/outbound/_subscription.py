"""A stored subscription → its FHIR R4 ``Subscription``; an event → the notification Bundle.

The notification is the R4 backport's: a ``history`` Bundle whose first entry is a
``Parameters`` (profile ``backport-subscription-status-r4``) saying which subscription, its
status, the kind of notification (``handshake`` or ``event-notification``), how many events it
has had, and per event its number, time and focus; ``full-resource`` adds the ClaimResponses
as further entries. The secret never appears in either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from adapter.domain.subscription import PayloadContent, SubscriptionView
from mappings.systems import (
    BACKPORT_PAYLOAD_CONTENT,
    BACKPORT_SUBSCRIPTION,
    BACKPORT_SUBSCRIPTION_STATUS,
    Canon,
)

__all__ = ["NotificationEvent", "to_notification", "to_subscription"]

_JSON = "application/fhir+json"


def _url(base_url: str, path: str) -> str:
    """An absolute URL under ``base_url``, or the relative reference ``path`` without one."""
    return f"{base_url.rstrip('/')}/{path}" if base_url else path


def _instant(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


def to_subscription(view: SubscriptionView) -> dict[str, Any]:
    """The Subscription as its owner reads it: status and error as they are now, no secret."""
    channel: dict[str, Any] = {
        "type": "rest-hook",
        "endpoint": view.endpoint,
        "payload": _JSON,
        "_payload": {"extension": [{"url": BACKPORT_PAYLOAD_CONTENT, "valueCode": view.content.value}]},
    }
    resource: dict[str, Any] = {
        "resourceType": "Subscription",
        "id": view.id,
        "meta": {"profile": [BACKPORT_SUBSCRIPTION]},
        "status": view.status.value,
        "reason": view.reason or "ClaimResponses of this client",
        "criteria": view.criteria,
    }
    if view.end is not None:
        resource["end"] = _instant(view.end)
    if view.error:
        resource["error"] = view.error
    resource["channel"] = channel
    return resource


class NotificationEvent:
    """One event of a notification: its number, when it happened, the ClaimResponses it is about
    (the first is the focus, the others its additional context) and, for ``full-resource``,
    those ClaimResponses themselves."""

    __slots__ = ("number", "resources", "response_ids", "timestamp")

    def __init__(
        self,
        *,
        number: int,
        timestamp: datetime,
        response_ids: Sequence[str],
        resources: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.number = number
        self.timestamp = timestamp
        self.response_ids = tuple(response_ids)
        self.resources = tuple(resources)


def to_notification(
    *,
    bundle_id: str,
    view: SubscriptionView,
    kind: str,
    events: Sequence[NotificationEvent],
    base_url: str,
    canon: Canon,
    now: datetime,
) -> dict[str, Any]:
    """The notification Bundle (``kind``: ``handshake`` or ``event-notification``); ``bundle_id``
    is the event id a receiver deduplicates on, ``base_url`` the adapter's public base (relative
    references without one)."""
    subscription_url = _url(base_url, f"Subscription/{view.id}")
    parameters: list[dict[str, Any]] = [
        {"name": "subscription", "valueReference": {"reference": subscription_url}},
        {"name": "topic", "valueCanonical": canon.claim_response_topic},
        {"name": "status", "valueCode": view.status.value},
        {"name": "type", "valueCode": kind},
        {"name": "events-since-subscription-start", "valueString": str(view.events_since_start)},
    ]
    entries: list[dict[str, Any]] = []
    for event in events:
        parts: list[dict[str, Any]] = [
            {"name": "event-number", "valueString": str(event.number)},
            {"name": "timestamp", "valueInstant": _instant(event.timestamp)},
        ]
        if view.content is not PayloadContent.EMPTY and event.response_ids:
            focus, *context = event.response_ids
            parts.append(
                {"name": "focus", "valueReference": {"reference": _url(base_url, f"ClaimResponse/{focus}")}}
            )
            parts.extend(
                {
                    "name": "additional-context",
                    "valueReference": {"reference": _url(base_url, f"ClaimResponse/{other}")},
                }
                for other in context
            )
        parameters.append({"name": "notification-event", "part": parts})
        if view.content is PayloadContent.FULL_RESOURCE:
            for resource in event.resources:
                entries.append(
                    {
                        "fullUrl": _url(base_url, f"ClaimResponse/{resource.get('id')}")
                        if base_url
                        else f"urn:uuid:{resource.get('id')}",
                        "resource": dict(resource),
                        "request": {"method": "PUT", "url": f"ClaimResponse/{resource.get('id')}"},
                        "response": {"status": "200"},
                    }
                )
    status = {
        "fullUrl": f"urn:uuid:{bundle_id}",
        "resource": {
            "resourceType": "Parameters",
            "id": bundle_id,
            "meta": {"profile": [BACKPORT_SUBSCRIPTION_STATUS]},
            "parameter": parameters,
        },
        "request": {"method": "GET", "url": f"{subscription_url}/$status"},
        "response": {"status": "200"},
    }
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "type": "history",
        "timestamp": _instant(now),
        "entry": [status, *entries],
    }
