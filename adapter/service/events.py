"""What the outbox's topics announce, as the events the destinations receive (docs/delivery.md).

The store's outbox speaks of work (``claim.pending``: a claim for the worker); the world hears
of what happened to a claim. One outbox event gives one or more events, in this order:

- ``claim.adjudicated`` (an in-process submit): ``claim.accepted``, ``claim.adjudicated``,
  ``claim.completed``;
- ``claim.pending`` (a connected submit): ``claim.accepted``, ``claim.pended`` (a requeue:
  ``claim.pended`` only);
- ``claim.completed`` (the payers decided a pended claim): ``claim.adjudicated``, ``claim.completed``;
- ``claim.dead-letter``, ``claim.cancelled``: the event of the same name;
- ``delivery.failed`` (a delivery went to the dead letters): ``delivery.failed``.

Each event carries the claim's answer Bundle as it was then (the version the outbox event
names), or for ``delivery.failed`` an OperationOutcome. Its id is a UUID derived from the outbox
event and the type, so a fan-out that is run again gives the same ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from adapter.delivery import Event
from adapter.store import OutboxEvent, StoredSubmission, Tx
from mappings.fhir import jsonio

__all__ = ["MEMBER_EVENTS", "build_events", "event_from_json", "event_json", "event_types", "member_entries"]

_EVENTS = uuid.UUID("0b7d8f5e-3c2a-5e41-9a6d-27c1f0e4b8a3")
_TYPES: Mapping[str, tuple[str, ...]] = {
    "claim.adjudicated": ("claim.accepted", "claim.adjudicated", "claim.completed"),
    "claim.pending": ("claim.accepted", "claim.pended"),
    "claim.completed": ("claim.adjudicated", "claim.completed"),
    "claim.dead-letter": ("claim.dead-letter",),
    "claim.cancelled": ("claim.cancelled",),
    "delivery.failed": ("delivery.failed",),
}


#: The events a mutuelle is told of, with what it needs to find its member: a decision, and its
#: withdrawal (the ClaimResponses then read ``cancelled``).
MEMBER_EVENTS = frozenset({"claim.adjudicated", "claim.cancelled"})


def event_types(topic: str, payload: Mapping[str, Any]) -> tuple[str, ...]:
    """The events an outbox event announces (none for a topic nobody hears of)."""
    if topic == "claim.pending" and payload.get("requeued"):
        return ("claim.pended",)
    return _TYPES.get(topic, ())


def _answer_at(tx: Tx, row: StoredSubmission, version: int) -> bytes:
    """The claim's answer as of ``version`` (the current one when that version is not kept)."""
    if version != row.version:
        for kept, _, body, _ in tx.answer_versions(row.id):
            if kept == version:
                return body
    return row.response_json


def member_entries(bundle: Mapping[str, Any], amc_number: str) -> tuple[dict[str, Any], ...]:
    """The entries of a submitted Bundle that identify the beneficiary to the mutuelle ``amc_number``:
    the Patient, and each Coverage whose payor is that AMC, with that Organization."""
    entries = [entry for entry in bundle.get("entry", []) if isinstance(entry, dict)]

    def key_of(entry: Mapping[str, Any]) -> set[str]:
        resource = entry.get("resource", {})
        keys = {str(entry.get("fullUrl"))}
        if "id" in resource:
            keys.add(f"{resource.get('resourceType')}/{resource['id']}")
        return keys

    amc_orgs = [
        entry
        for entry in entries
        if entry.get("resource", {}).get("resourceType") == "Organization"
        and any(i.get("value") == amc_number for i in entry["resource"].get("identifier", []))
    ]
    org_keys = set().union(*(key_of(entry) for entry in amc_orgs)) if amc_orgs else set()
    coverages = [
        entry
        for entry in entries
        if entry.get("resource", {}).get("resourceType") == "Coverage"
        and any(p.get("reference") in org_keys for p in entry["resource"].get("payor", []))
    ]
    patients = [entry for entry in entries if entry.get("resource", {}).get("resourceType") == "Patient"]
    return tuple(
        {"fullUrl": e.get("fullUrl"), "resource": e["resource"]} for e in [*patients, *coverages, *amc_orgs]
    )


def _failure_outcome(payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "transient",
                "details": {"text": str(payload.get("reason", ""))},
                "diagnostics": (
                    f"event {payload.get('event')} ({payload.get('event_type')}) to "
                    f"{payload.get('destination')}/{payload.get('target')} went to the dead letters"
                ),
            }
        ],
    }


def build_events(
    tx: Tx, event: OutboxEvent, *, bundle_of: Callable[[StoredSubmission], Mapping[str, Any] | None]
) -> list[Event]:
    """The events ``event`` announces, read on ``tx`` (none when its claim is gone).
    ``bundle_of`` reads a stored submission's body (None once purged)."""
    types = event_types(event.topic, event.payload)
    claim_id = event.payload.get("submission")
    if not types or not isinstance(claim_id, str):
        return []
    row = tx.submission_by_id(claim_id)
    if row is None:
        return []
    version = event.payload.get("version")
    body = _answer_at(tx, row, version if isinstance(version, int) else 1)
    events: list[Event] = []
    for kind in types:
        if kind == "delivery.failed":
            resource = _failure_outcome(event.payload)
            detail = {
                name: str(event.payload.get(name, ""))
                for name in ("destination", "target", "event", "event_type", "reason")
            }
        else:
            resource = jsonio.loads(body)
            detail = {}
        member: tuple[dict[str, Any], ...] = ()
        if kind in MEMBER_EVENTS and row.amc_number is not None:
            submitted = bundle_of(row)
            if submitted is not None:
                member = member_entries(submitted, row.amc_number)
        events.append(
            Event(
                id=str(uuid.uuid5(_EVENTS, f"{claim_id}|{event.id}|{event.created_at.isoformat()}|{kind}")),
                type=kind,
                tenant=row.client_id,
                time=event.created_at,
                claim=claim_id,
                resource=resource,
                amc_number=row.amc_number,
                member=member,
                detail=detail,
                provider_finess=row.provider_finess,
                provider_siret=row.provider_siret,
            )
        )
    return events


def event_json(event: Event) -> str:
    """The event as stored in its delivery rows."""
    return jsonio.dumps(
        {
            "id": event.id,
            "type": event.type,
            "tenant": event.tenant,
            "time": event.time.isoformat(),
            "claim": event.claim,
            "resource": event.resource,
            "amc_number": event.amc_number,
            "member": list(event.member),
            "detail": dict(event.detail),
            "provider_finess": event.provider_finess,
            "provider_siret": event.provider_siret,
        },
        sort_keys=True,
    ).decode()


def event_from_json(text: str) -> Event:
    data = jsonio.loads(text)
    return Event(
        id=data["id"],
        type=data["type"],
        tenant=data["tenant"],
        time=datetime.fromisoformat(data["time"]),
        claim=data["claim"],
        resource=data["resource"],
        amc_number=data.get("amc_number"),
        member=tuple(data.get("member", ())),
        detail=data.get("detail", {}),
        provider_finess=data.get("provider_finess"),
        provider_siret=data.get("provider_siret"),
    )
