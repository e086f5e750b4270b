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
from typing import Any, cast

from sqlalchemy import CursorResult, insert, or_, select, update
from sqlalchemy.orm import Session

from adapter.store.models import OutboxRow
from adapter.store.records import OutboxEvent

__all__ = ["DEFAULT_LEASE", "claim", "complete", "enqueue"]

DEFAULT_LEASE = timedelta(minutes=5)


def _json_default(value: object) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # amounts stay exact: never through float
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def enqueue(session: Session, *, topic: str, payload: Mapping[str, Any], at: datetime) -> None:
    """Add a pending event; ``payload`` must be JSON-serialisable (Decimal and datetime become text)."""
    text = json.dumps(dict(payload), default=_json_default, ensure_ascii=False, sort_keys=True)
    session.execute(insert(OutboxRow).values(topic=topic, payload=text, created_at=at, attempts=0))


def claim(
    session: Session, worker: str, *, limit: int, now: datetime, lease: timedelta = DEFAULT_LEASE
) -> list[OutboxEvent]:
    """Lease up to ``limit`` pending events to ``worker``, oldest first, until ``now + lease``."""
    if limit <= 0:
        return []
    query = (
        select(OutboxRow.id, OutboxRow.topic, OutboxRow.payload, OutboxRow.created_at, OutboxRow.attempts)
        .where(
            OutboxRow.completed_at.is_(None),
            or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until <= now),
        )
        .order_by(OutboxRow.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(query).all()
    if not rows:
        return []
    session.execute(
        update(OutboxRow)
        .where(OutboxRow.id.in_([row.id for row in rows]))
        .values(claimed_by=worker, claimed_until=now + lease, attempts=OutboxRow.attempts + 1),
        execution_options={"synchronize_session": False},
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


def complete(session: Session, event_id: int, now: datetime) -> bool:
    """Mark an event published; False when it was unknown or already completed."""
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == event_id, OutboxRow.completed_at.is_(None))
        .values(completed_at=now, claimed_until=None),
        execution_options={"synchronize_session": False},
    )
    return cast(CursorResult[Any], result).rowcount > 0
