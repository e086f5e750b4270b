"""Code run in child processes (spawn) by the concurrency tests: it must be importable."""

from __future__ import annotations

import os
import threading
import time
import traceback
from typing import Any

from adapter.errors import StoreConflict
from adapter.store import Store, engine
from tests.support.submissions import T0, submission


def race(url: str, worker: int, barrier: Any, results: Any) -> None:
    """Open (and migrate) the store, then race the others to store two submissions.

    Round 1 takes the idempotency key as a lock key, as the service does; round 2 takes
    no lock, so only the unique constraint stands between the writers.
    """
    try:
        store = Store.open(url, migrate=True)
        try:
            for round_, locks in ((1, True), (2, False)):
                new = submission(100 + round_, id=f"00000000-0000-0000-0000-{round_:06d}{worker:06d}")
                barrier.wait(timeout=60)
                try:
                    with store.write(lock_keys=[new.key_value] if locks else []) as tx:
                        if tx.find_submission(new.client_id, new.key_system, new.key_value) is not None:
                            outcome = "found"
                        else:
                            tx.insert_submission(new)
                            outcome = "stored"
                except StoreConflict:  # the commit found the key taken
                    outcome = "duplicate"
                results.put((round_, worker, outcome))
        finally:
            store.dispose()
    except BaseException:
        results.put((0, worker, traceback.format_exc()))
        raise


def write_many(url: str, worker: int, threads: int, writes: int, barrier: Any, results: Any) -> None:
    """With SQLite's busy timeout at zero, ``threads`` threads each commit ``writes`` outbox events.

    A writer that reached ``BEGIN IMMEDIATE`` while another held the lock would fail at once
    with "database is locked": only the writer queue keeps them apart.
    """
    try:
        engine.SQLITE_BUSY_TIMEOUT_MS = 0
        store = Store.open(url, migrate=False)
        errors: list[str] = []

        def run(thread: int) -> None:
            try:
                for n in range(writes):
                    with store.write() as tx:
                        tx.enqueue(
                            topic="t",
                            payload={"worker": worker, "thread": thread, "n": n},
                            at=T0,
                        )
            except BaseException:
                errors.append(traceback.format_exc())

        try:
            barrier.wait(timeout=60)
            pool = [threading.Thread(target=run, args=(thread,)) for thread in range(threads)]
            for thread in pool:
                thread.start()
            for thread in pool:
                thread.join(timeout=120)
        finally:
            store.dispose()
        results.put((worker, errors[0] if errors else "ok"))
    except BaseException:
        results.put((worker, traceback.format_exc()))
        raise


def hold_then_die(url: str, holding: Any) -> None:
    """Open a write transaction, say so, and die inside it without committing or unlocking."""
    store = Store.open(url, migrate=False)
    with store.write() as tx:
        tx.audit(action="doomed", outcome="-", client_id="c", submission_id=None, request_id=None, at=T0)
        holding.set()
        time.sleep(0.5)
        os._exit(3)
