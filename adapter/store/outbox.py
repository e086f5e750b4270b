"""The transactional outbox: events written with the submission, published after commit.

An event is enqueued in the same transaction as the data it announces, so it exists if and
only if that data does. Workers lease pending events: on PostgreSQL the claim query uses
``FOR UPDATE SKIP LOCKED`` so concurrent workers never take the same event; on SQLite write
transactions are serialised anyway. A lease expires, so an event whose worker died is
claimed again later: delivery is at least once, and consumers must be idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from adapter.store.models import OutboxRow, table_of
from adapter.store.prepared import Prepared
from adapter.store.records import OutboxEvent

__all__ = ["DEFAULT_LEASE", "INSERT", "claim", "complete", "prune", "row"]

DEFAULT_LEASE = timedelta(minutes=5)

_OUTBOX = table_of(OutboxRow)
_O = _OUTBOX.c
INSERT = Prepared(insert(_OUTBOX), ("topic", "payload", "created_at", "attempts"))


def _json_default(value: object) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # amounts stay exact: never through float
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def row(*, topic: str, payload: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """The values of a pending event for :data:`INSERT`; ``payload`` must be JSON-serialisable
    (Decimal and datetime become text)."""
    text = json.dumps(dict(payload), default=_json_default, ensure_ascii=False, sort_keys=True)
    return {"topic": topic, "payload": text, "created_at": at, "attempts": 0}


def claim(
    connection: Connection, worker: str, *, limit: int, now: datetime, lease: timedelta = DEFAULT_LEASE
) -> list[OutboxEvent]:
    """Lease up to ``limit`` pending events to ``worker``, oldest first, until ``now + lease``."""
    if limit <= 0:
        return []
    query = (
        select(_O.id, _O.topic, _O.payload, _O.created_at, _O.attempts)
        .where(_O.completed_at.is_(None), or_(_O.claimed_until.is_(None), _O.claimed_until <= now))
        .order_by(_O.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = connection.execute(query).all()
    if not rows:
        return []
    connection.execute(
        update(_OUTBOX)
        .where(_O.id.in_([row.id for row in rows]))
        .values(claimed_by=worker, claimed_until=now + lease, attempts=_O.attempts + 1)
    )
    return [
        OutboxEvent(
            id=row.id,
            topic=row.topic,
            payload=json.loads(row.payload),
            created_at=row.created_at,
            attempts=row.attempts + 1,
        )
        for row in rows
    ]


def complete(connection: Connection, event_id: int, now: datetime) -> bool:
    """Mark an event published; False when it was unknown or already completed."""
    result = connection.execute(
        update(_OUTBOX)
        .where(_O.id == event_id, _O.completed_at.is_(None))
        .values(completed_at=now, claimed_until=None)
    )
    return result.rowcount > 0


def prune(connection: Connection, completed_before: datetime, *, keep_undispatched: bool = False) -> int:
    """Delete the events completed before ``completed_before`` (their retention is over); with
    ``keep_undispatched``, only those the dispatcher has fanned out."""
    conditions = [_O.completed_at.is_not(None), _O.completed_at < completed_before]
    if keep_undispatched:
        conditions.append(_O.dispatched_at.is_not(None))
    result = connection.execute(delete(_OUTBOX).where(*conditions))
    return int(result.rowcount or 0)
