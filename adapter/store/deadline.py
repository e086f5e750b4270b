"""A client-side deadline for PostgreSQL transactions: a server that stops answering cannot hold a
request for ever.

``statement_timeout`` is enforced by the server, so a server that is frozen (stopped, swapping,
cut off behind a firewall that drops packets while the kernel still acknowledges them) never
enforces it, and the driver waits on its socket indefinitely. One watchdog thread per process
keeps the deadlines of the transactions in flight; when one passes, it shuts the transaction's
socket down (``shutdown(2)``, not ``close``: the driver still owns the descriptor). The driver's
wait then ends with "server closed the connection", SQLAlchemy invalidates the connection, and
the store reports the database unavailable.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["WATCHDOG", "Watchdog"]


class Watchdog:
    """Shuts down the sockets of transactions that outlive their deadline."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._heap: list[tuple[float, int, int]] = []  # (deadline, token, fd)
        self._live: set[int] = set()
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None
        self.fired = 0

    @contextmanager
    def guard(self, fd: int, seconds: float) -> Iterator[None]:
        """While the block runs, ``fd``'s socket is shut down once ``seconds`` have passed."""
        token = next(self._tokens)
        with self._lock:
            heapq.heappush(self._heap, (time.monotonic() + seconds, token, fd))
            self._live.add(token)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="store-deadline", daemon=True)
                self._thread.start()
            elif self._heap[0][1] == token:
                self._lock.notify()
        try:
            yield
        finally:
            with self._lock:
                self._live.discard(token)

    def _run(self) -> None:
        with self._lock:
            while True:
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)  # finished in time
                if not self._heap:
                    self._lock.wait(30.0)
                    if not self._heap:
                        self._thread = None
                        return
                    continue
                deadline, token, fd = self._heap[0]
                left = deadline - time.monotonic()
                if left > 0:
                    self._lock.wait(left)
                    continue
                heapq.heappop(self._heap)
                self._live.discard(token)
                self.fired += 1
                _shutdown(fd)


def _shutdown(fd: int) -> None:
    try:
        duplicate = socket.socket(fileno=socket.dup(fd))
    except OSError:
        return
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        duplicate.close()


WATCHDOG = Watchdog()
"""The process's watchdog (its thread starts with the first deadline and ends when idle)."""
