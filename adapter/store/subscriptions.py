"""The subscriptions table: clients' rest-hooks, their status and their event counters.

Plain functions on a transaction's connection (``Tx`` exposes them): a subscription is read
and changed only through its owner's ``client_id``, except by the worker, which fans events
out to every active one and numbers them.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, func, insert, or_, select, update

from adapter.store.models import SubscriptionEventRow, SubscriptionRow, table_of
from adapter.store.records import StoredSubscription

__all__ = ["active", "by_id", "event_number", "insert_row", "of_client", "remove", "set_status"]

_TABLE = table_of(SubscriptionRow)
_EVENTS = table_of(SubscriptionEventRow)
_E = _EVENTS.c
_C = _TABLE.c
_FIELDS = tuple(f.name for f in fields(StoredSubscription))
_ROW = select(*(_C[name] for name in _FIELDS))


def _stored(row: Row[Any]) -> StoredSubscription:
    return StoredSubscription(**dict(zip(_FIELDS, row, strict=True)))


def insert_row(connection: Connection, subscription: StoredSubscription) -> None:
    connection.execute(insert(_TABLE).values({name: getattr(subscription, name) for name in _FIELDS}))


def by_id(
    connection: Connection, subscription_id: str, *, client_id: str | None
) -> StoredSubscription | None:
    """The subscription; with ``client_id``, only when that client owns it."""
    query = _ROW.where(_C.id == subscription_id)
    if client_id is not None:
        query = query.where(_C.client_id == client_id)
    row = connection.execute(query).first()
    return _stored(row) if row is not None else None


def of_client(
    connection: Connection, client_id: str, *, offset: int, limit: int
) -> tuple[list[StoredSubscription], int]:
    """One page of a client's subscriptions, oldest first, and how many it has."""
    total = connection.execute(
        select(func.count()).select_from(_TABLE).where(_C.client_id == client_id)
    ).scalar()
    if not total or limit == 0 or offset >= total:
        return [], int(total or 0)
    rows = connection.execute(
        _ROW.where(_C.client_id == client_id).order_by(_C.created_at, _C.id).offset(offset).limit(limit)
    )
    return [_stored(row) for row in rows], int(total)


def active(connection: Connection, *, now: datetime) -> list[StoredSubscription]:
    """The subscriptions events go to: active, and not past their end."""
    rows = connection.execute(
        _ROW.where(_C.status == "active", or_(_C.end_at.is_(None), _C.end_at > now)).order_by(_C.id)
    )
    return [_stored(row) for row in rows]


def remove(connection: Connection, subscription_id: str, *, client_id: str) -> bool:
    result = connection.execute(delete(_TABLE).where(_C.id == subscription_id, _C.client_id == client_id))
    if result.rowcount:
        connection.execute(delete(_EVENTS).where(_E.subscription_id == subscription_id))
    return bool(result.rowcount)


def set_status(
    connection: Connection,
    subscription_id: str,
    *,
    status: str,
    error: str | None,
    at: datetime,
    only_if: tuple[str, ...] = (),
) -> bool:
    """Set the status and its error; with ``only_if``, only from one of those statuses."""
    query = update(_TABLE).where(_C.id == subscription_id)
    if only_if:
        query = query.where(_C.status.in_(only_if))
    result = connection.execute(query.values(status=status, error=error, updated_at=at))
    return bool(result.rowcount)


def event_number(connection: Connection, subscription_id: str, event_id: str, *, at: datetime) -> int:
    """The number of ``event_id`` for the subscription: the one it got before, else the next one
    (the subscription's count of events goes up by one). Call it holding the subscription's lock."""
    kept = connection.execute(
        select(_E.number).where(_E.subscription_id == subscription_id, _E.event_id == event_id)
    ).scalar()
    if kept is not None:
        return int(kept)
    connection.execute(
        update(_TABLE).where(_C.id == subscription_id).values(events_since_start=_C.events_since_start + 1)
    )
    number = int(
        connection.execute(select(_C.events_since_start).where(_C.id == subscription_id)).scalar() or 0
    )
    connection.execute(
        insert(_EVENTS).values(
            subscription_id=subscription_id, event_id=event_id, number=number, created_at=at
        )
    )
    return number
