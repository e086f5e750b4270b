"""Racing writers: one submission per key whatever the interleaving, across threads and processes."""

from __future__ import annotations

import multiprocessing
import queue
import sqlite3
import threading
from collections import Counter

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from adapter.access import Caller
from adapter.errors import StoreConflict
from adapter.store import Store
from adapter.store.engine import lock_id
from tests.store import workers
from tests.support.submissions import submission

THREADS = 8
PROCESSES = 4


def _count(store: Store, key_value: str) -> int:
    with store.read() as tx:
        _, total = tx.search(
            caller=Caller(client_id="ops", everything=True),
            claim=(submission(1).key_system, key_value),
        )
    return total


@pytest.mark.parametrize("lock", [True, False], ids=["locked", "unlocked"])
def test_threads_racing_on_one_key_store_it_once(store: Store, lock: bool) -> None:
    """Eight threads submitting one key: one stores it, the others find it or get a duplicate error."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    template = submission(42)

    def attempt(n: int) -> None:
        new = submission(42, id=f"00000000-0000-0000-0000-{n:012d}")
        try:
            barrier.wait(timeout=30)
            try:
                with store.write(lock_keys=[new.key_value] if lock else ()) as tx:
                    if tx.find_submission(new.client_id, new.key_system, new.key_value) is not None:
                        outcomes.append("found")
                        return
                    tx.insert_submission(new)
                outcomes.append("stored")
            except StoreConflict:  # the commit found the key taken
                outcomes.append("duplicate")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    counts = Counter(outcomes)
    assert counts["stored"] == 1
    assert counts["found"] + counts["duplicate"] == THREADS - 1
    assert _count(store, template.key_value) == 1


def test_processes_racing_on_one_file_or_server_store_each_key_once(empty_url: str) -> None:
    """Four processes migrate one fresh database together, then race on two keys: one row each."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=workers.race, args=(empty_url, n, barrier, results)) for n in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    outcomes: list[tuple[int, int, str]] = []
    try:
        for _ in range(2 * PROCESSES):
            outcomes.append(results.get(timeout=60))
            assert outcomes[-1][0] != 0, outcomes[-1][2]
    except queue.Empty:
        pytest.fail(f"workers did not report in time: {outcomes}")
    finally:
        for process in processes:
            process.join(timeout=30)
    assert [process.exitcode for process in processes] == [0] * PROCESSES
    for round_ in (1, 2):
        counts = Counter(outcome for r, _, outcome in outcomes if r == round_)
        assert counts["stored"] == 1, outcomes
        assert counts["found"] + counts["duplicate"] == PROCESSES - 1
    store = Store.open(empty_url, migrate=False)
    try:
        assert _count(store, submission(101).key_value) == 1
        assert _count(store, submission(102).key_value) == 1
    finally:
        store.dispose()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_write_transactions_hold_the_write_lock_from_the_start(store: Store) -> None:
    """BEGIN IMMEDIATE: while write() is open, another writer cannot even begin."""
    path = make_url(str(store.engine.url)).database
    assert path is not None
    with store.write():
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
    with store.read():
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        finally:
            other.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(store: Store) -> None:
    """Every connection uses WAL, enforces foreign keys and waits at least 10 s for a lock."""
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    assert isinstance(timeout, int)
    assert timeout >= 10_000


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_lock_keys_are_advisory_locks_held_until_commit(store: Store) -> None:
    """Once write(lock_keys=[k]) has run a statement, another session cannot take k's lock until
    the commit; other keys are free. The lock statement travels with the first one."""
    probe = text("SELECT pg_try_advisory_xact_lock(:id)")
    with store.write(lock_keys=["patient-1", "SUB-1"]) as tx, store.engine.connect() as other:
        assert tx.find_submission("hospital-a", "urn:example", "SUB-1") is None
        assert other.execute(probe, {"id": lock_id("patient-1")}).scalar() is False
        assert other.execute(probe, {"id": lock_id("SUB-1")}).scalar() is False
        assert other.execute(probe, {"id": lock_id("patient-2")}).scalar() is True
        other.rollback()
    with store.engine.connect() as other:
        assert other.execute(probe, {"id": lock_id("patient-1")}).scalar() is True
        other.rollback()


def test_opposite_lock_orders_do_not_deadlock(store: Store) -> None:
    """Two writers naming the same keys in opposite orders both finish (locks are taken sorted)."""
    barrier = threading.Barrier(2)
    done: list[int] = []

    def write(n: int, keys: list[str]) -> None:
        barrier.wait(timeout=10)
        for _ in range(5):
            with store.write(lock_keys=keys) as tx:
                tx.enqueue(topic="t", payload={"n": n}, at=submission(1).stored_at)
        done.append(n)

    threads = [
        threading.Thread(target=write, args=(0, ["a", "b", "c"])),
        threading.Thread(target=write, args=(1, ["c", "b", "a"])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(done) == [0, 1]


def test_lock_keys_must_be_a_sequence_of_strings(store: Store) -> None:
    """A bare string is refused rather than locked character by character."""
    with pytest.raises(TypeError), store.write(lock_keys="SUB-1"):
        pass
