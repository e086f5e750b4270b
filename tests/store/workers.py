"""Code run in child processes (spawn) by the concurrency tests: it must be importable."""

from __future__ import annotations

import traceback
from typing import Any

from adapter.store import DuplicateSubmissionError, Store
from tests.store.builders import submission


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
                with store.write(lock_keys=[new.key_value] if locks else []) as tx:
                    if tx.find_submission(new.key_system, new.key_value) is not None:
                        outcome = "found"
                    else:
                        try:
                            tx.add_submission(new)
                            outcome = "stored"
                        except DuplicateSubmissionError:
                            outcome = "duplicate"
                results.put((round_, worker, outcome))
        finally:
            store.dispose()
    except BaseException:
        results.put((0, worker, traceback.format_exc()))
        raise
