"""Holding a lock or a transaction from another thread, for the tests of what waits for it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

__all__ = ["held_elsewhere"]


@contextmanager
def held_elsewhere(
    enter: Callable[[], AbstractContextManager[object]], timeout: float = 30
) -> Iterator[None]:
    """Run the block while another thread is inside ``enter()``; that thread leaves it after the block."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with enter():
            holding.set()
            release.wait(timeout=timeout)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        if not holding.wait(timeout=timeout):
            raise TimeoutError("the other thread never got in")
        yield
    finally:
        release.set()
        holder.join(timeout=timeout)
