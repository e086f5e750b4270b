"""Audit records and the outbox: events lease to one worker at a time, and complete once."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from adapter.store import OutboxEvent, Store
from adapter.store.models import AuditRow
from tests.support.submissions import T0


def _enqueue(store: Store, count: int) -> None:
    with store.write() as tx:
        for n in range(count):
            tx.enqueue(topic="submission.stored", payload={"n": n, "amount": Decimal("12.30")}, at=T0)


def test_audit_records_are_stored_with_their_time(store: Store) -> None:
    """An audit record keeps action, outcome, client, submission, request id and a UTC time."""
    with store.write() as tx:
        tx.audit(
            action="submit",
            outcome="stored",
            client_id="hospital-a",
            submission_id="s-1",
            request_id="r-1",
            at=T0,
        )
        tx.audit(
            action="read",
            outcome="not-found",
            client_id="hospital-b",
            submission_id=None,
            request_id=None,
            at=T0,
        )
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(
                AuditRow.action,
                AuditRow.outcome,
                AuditRow.client_id,
                AuditRow.submission_id,
                AuditRow.request_id,
                AuditRow.at,
            ).order_by(AuditRow.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        ("submit", "stored", "hospital-a", "s-1", "r-1", T0),
        ("read", "not-found", "hospital-b", None, None, T0),
    ]


def test_claim_leases_oldest_first_and_complete_retires(store: Store) -> None:
    """Claimed events carry their payload (Decimal as text), are not claimed again, and complete once."""
    _enqueue(store, 3)
    with store.write() as tx:
        first = tx.claim_outbox("worker-1", limit=2, now=T0)
    assert [e.payload["n"] for e in first] == [0, 1]
    assert first[0].payload["amount"] == "12.30"
    assert first[0].attempts == 1
    assert first[0].created_at == T0
    with store.write() as tx:
        second = tx.claim_outbox("worker-2", limit=5, now=T0 + timedelta(seconds=1))
        assert [e.payload["n"] for e in second] == [2]
        assert tx.complete(first[0].id, T0) is True
        assert tx.complete(first[0].id, T0) is False
        assert tx.complete(999_999, T0) is False


def test_an_expired_lease_is_claimed_again(store: Store) -> None:
    """An event whose worker never completed it comes back after the lease, with attempts counted."""
    _enqueue(store, 1)
    lease = timedelta(minutes=5)
    with store.write() as tx:
        (event,) = tx.claim_outbox("worker-1", limit=1, now=T0, lease=lease)
    with store.write() as tx:
        assert tx.claim_outbox("worker-2", limit=1, now=T0 + lease - timedelta(seconds=1)) == []
        (again,) = tx.claim_outbox("worker-2", limit=1, now=T0 + lease)
    assert again.id == event.id
    assert again.attempts == 2
    with store.write() as tx:
        assert tx.complete(again.id, T0 + lease)
        assert tx.claim_outbox("worker-3", limit=1, now=T0 + 10 * lease) == []


def test_concurrent_workers_claim_each_event_exactly_once(store: Store) -> None:
    """Three threads draining the outbox together never take the same event twice."""
    _enqueue(store, 30)
    claimed: list[list[OutboxEvent]] = [[], [], []]

    def drain(worker: int) -> None:
        while True:
            with store.write() as tx:
                events = tx.claim_outbox(f"worker-{worker}", limit=4, now=T0)
                for event in events:
                    tx.complete(event.id, T0)
            if not events:
                return
            claimed[worker].extend(events)

    threads = [threading.Thread(target=drain, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    ids = [event.id for events in claimed for event in events]
    assert sorted(ids) == sorted(set(ids))
    assert len(ids) == 30


class _Abandoned(Exception):
    pass


def test_a_claim_rolled_back_leaves_the_events_unclaimed(store: Store) -> None:
    """A claim runs inside the write transaction (on PostgreSQL the store, not the driver, opens
    it, so the claim must wait for that BEGIN): when the transaction fails, the lease is gone."""
    _enqueue(store, 2)
    claimed: list[OutboxEvent] = []

    def claim_then_fail() -> None:
        with store.write() as tx:
            claimed.extend(tx.claim_outbox("worker-1", limit=10, now=T0))
            raise _Abandoned

    with pytest.raises(_Abandoned):
        claim_then_fail()
    assert len(claimed) == 2
    with store.write() as tx:
        again = tx.claim_outbox("worker-2", limit=10, now=T0)
    assert len(again) == 2


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_skips_rows_another_worker_holds(store: Store) -> None:
    """While one worker's claim is uncommitted, another gets the other events at once (SKIP LOCKED)."""
    _enqueue(store, 4)
    with store.write() as first:
        held = first.claim_outbox("worker-1", limit=2, now=T0)
        with store.write() as second:
            other = second.claim_outbox("worker-2", limit=10, now=T0)
    assert {e.id for e in held}.isdisjoint({e.id for e in other})
    assert len(held) == 2
    assert len(other) == 2
