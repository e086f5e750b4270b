"""The deliveries table: events waiting for, or done with, their destinations (docs/delivery.md).

The dispatcher fans each outbox event out into deliveries once (``dispatched_at`` marks the
outbox event), under one lock so that fan-outs never interleave: delivery ids then follow the
order in which the events were committed, which is each claim's order. A delivery is leased
like an outbox event (its ``next_attempt_at`` moved past the lease), oldest first, and only when
no earlier delivery of the same claim to the same target is still pending: a claim's events
reach a target in order. On PostgreSQL the lease uses ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, exists, insert, select, update
from sqlalchemy.orm import aliased

from adapter.store.models import DispatchRow, OutboxRow, SubmissionRow, table_of
from adapter.store.records import NewDelivery, OutboxEvent, StoredDelivery

__all__ = [
    "DISPATCH_LOCK",
    "STATES",
    "deliveries",
    "insert_deliveries",
    "lease",
    "mark_dispatched",
    "prune",
    "requeue",
    "settle",
    "undispatched",
]

#: The lock key every fan-out takes, so that two fan-outs never interleave.
DISPATCH_LOCK = "outbox:dispatch"
STATES = ("pending", "delivered", "dead")

_DELIVERIES = table_of(DispatchRow)
_D = _DELIVERIES.c
_OUTBOX = table_of(OutboxRow)
_O = _OUTBOX.c
_SUBMISSIONS = table_of(SubmissionRow)
_FIELDS = tuple(f.name for f in fields(StoredDelivery))
_ROW = select(*(_D[name] for name in _FIELDS))


def _stored(row: Any) -> StoredDelivery:
    return StoredDelivery(**dict(zip(_FIELDS, row, strict=True)))


def undispatched(connection: Connection, *, limit: int) -> list[OutboxEvent]:
    """The outbox events not yet fanned out, oldest first (done or not: a pended claim's event is
    fanned out while the worker still works on it)."""
    rows = connection.execute(
        select(_O.id, _O.topic, _O.payload, _O.created_at, _O.attempts)
        .where(_O.dispatched_at.is_(None))
        .order_by(_O.id)
        .limit(limit)
    ).all()
    return [
        OutboxEvent(
            id=row.id,
            topic=row.topic,
            payload=json.loads(row.payload),
            created_at=row.created_at,
            attempts=row.attempts,
        )
        for row in rows
    ]


def mark_dispatched(connection: Connection, event_ids: Sequence[int], now: datetime) -> None:
    if event_ids:
        connection.execute(update(_OUTBOX).where(_O.id.in_(list(event_ids))).values(dispatched_at=now))


def insert_deliveries(connection: Connection, new: Sequence[NewDelivery], now: datetime) -> None:
    if not new:
        return
    connection.execute(
        insert(_DELIVERIES),
        [
            {
                **{f.name: getattr(delivery, f.name) for f in fields(NewDelivery)},
                "state": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "updated_at": now,
            }
            for delivery in new
        ],
    )


def lease(
    connection: Connection, worker: str, *, limit: int, now: datetime, lease_for: timedelta
) -> list[StoredDelivery]:
    """Lease up to ``limit`` due deliveries to ``worker``, oldest first, each the earliest pending
    one of its claim for its target; their attempts count one more."""
    earlier = aliased(_DELIVERIES)
    blocked = exists().where(
        earlier.c.claim_id == _D.claim_id,
        earlier.c.destination == _D.destination,
        earlier.c.target == _D.target,
        earlier.c.state == "pending",
        earlier.c.id < _D.id,
    )
    rows = connection.execute(
        _ROW.where(_D.state == "pending", _D.next_attempt_at <= now, ~blocked)
        .order_by(_D.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=_DELIVERIES)
    ).all()
    if not rows:
        return []
    leased = [_stored(row) for row in rows]
    connection.execute(
        update(_DELIVERIES)
        .where(_D.id.in_([d.id for d in leased]))
        .values(claimed_by=worker, next_attempt_at=now + lease_for, attempts=_D.attempts + 1)
    )
    return [
        StoredDelivery(**{**{f: getattr(d, f) for f in _FIELDS}, "attempts": d.attempts + 1}) for d in leased
    ]


def settle(
    connection: Connection,
    delivery_id: int,
    *,
    state: str,
    now: datetime,
    next_attempt_at: datetime | None = None,
    error: str | None = None,
) -> bool:
    """Record a send's end: ``delivered``, ``dead`` (with ``error``), or ``pending`` again, due at
    ``next_attempt_at`` (with ``error``). False when the delivery was no longer pending."""
    values: dict[str, Any] = {"state": state, "updated_at": now, "claimed_by": None}
    if state == "delivered":
        values["delivered_at"] = now
    else:
        values["last_error"] = error
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    result = connection.execute(
        update(_DELIVERIES).where(_D.id == delivery_id, _D.state == "pending").values(**values)
    )
    return bool(result.rowcount)


def deliveries(
    connection: Connection,
    *,
    visible: ColumnElement[bool] | None,
    state: str | None = None,
    destination: str | None = None,
    claim_id: str | None = None,
    delivery_id: int | None = None,
    limit: int = 100,
) -> list[StoredDelivery]:
    """Deliveries oldest first, of the claims ``visible`` lets the caller read (None: all)."""
    conditions: list[ColumnElement[bool]] = []
    if state is not None:
        conditions.append(_D.state == state)
    if destination is not None:
        conditions.append(_D.destination == destination)
    if claim_id is not None:
        conditions.append(_D.claim_id == claim_id)
    if delivery_id is not None:
        conditions.append(_D.id == delivery_id)
    query = _ROW
    if visible is not None:
        query = query.join(_SUBMISSIONS, and_(_SUBMISSIONS.c.id == _D.claim_id, visible))
    rows = connection.execute(query.where(*conditions).order_by(_D.id).limit(limit))
    return [_stored(row) for row in rows]


def requeue(connection: Connection, delivery_id: int, now: datetime) -> bool:
    """Make a dead delivery pending again, due now, with a fresh count of attempts."""
    result = connection.execute(
        update(_DELIVERIES)
        .where(_D.id == delivery_id, _D.state == "dead")
        .values(state="pending", attempts=0, next_attempt_at=now, updated_at=now, claimed_by=None)
    )
    return bool(result.rowcount)


def prune(connection: Connection, delivered_before: datetime) -> int:
    """Delete the deliveries delivered before ``delivered_before`` (dead ones stay for operators)."""
    result = connection.execute(
        delete(_DELIVERIES).where(_D.state == "delivered", _D.delivered_at < delivered_before)
    )
    return int(result.rowcount or 0)
