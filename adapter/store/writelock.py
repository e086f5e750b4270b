"""SQLite writers: a queue in front of the write lock, and the commit's fsync after it.

SQLite lets one writer hold the file at a time. A writer that finds it taken waits in
SQLite's busy handler, which polls by sleeping in growing steps (up to 100 ms): the lock is
released and sits idle while the waiters sleep, and under load some requests wait for
seconds. So writers queue *before* ``BEGIN IMMEDIATE`` instead: on a process-local lock (the
threads of one process) and then on an exclusive ``fcntl.flock`` of ``<database>.lock``
next to the database (the processes sharing the file). The kernel wakes a waiter as soon as
the holder lets go, and the lock dies with its holder, so a crashed process never leaves
the queue blocked. Only the adapter takes this lock: any other writer on the file (a backup,
the ``sqlite3`` shell) still meets the adapter in SQLite's busy handler.

The commit's fsync is taken out of the queue too (threads of a process that commit together
share one),  and so is the checkpoint (copying the WAL
into the database), which SQLite would otherwise run inside a COMMIT every thousand pages.
Connections run WAL with ``synchronous = NORMAL``, so COMMIT writes the transaction to the
WAL file without waiting for the disk, and the writer calls :meth:`WriterQueue.sync` (fsync
of ``<database>-wal``) after its turn has passed to the next writer, before it tells its
caller the transaction is done. Flushing the WAL flushes every transaction before it as
well, and a checkpoint flushes the WAL before it copies frames into the database, so a
missing WAL file means the data is already in a flushed database file.
"""

from __future__ import annotations

import fcntl
import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from adapter.errors import UsageError

__all__ = ["CHECKPOINT_EVERY", "WriterQueue", "database_path"]

CHECKPOINT_EVERY = 32
"""Commits of one process between two WAL checkpoints (a submit writes some thirty pages: about
SQLite's own default of a thousand pages for one process)."""

_QUEUES: weakref.WeakSet[WriterQueue] = weakref.WeakSet()


def database_path(database: str) -> Path | None:
    """The file of a SQLite URL's database part (``sqlite:///<database>``); None in memory.

    A ``file:`` URI names the file before its query string.
    """
    if database in ("", ":memory:"):
        return None
    if database.startswith("file:"):
        path, _, query = database[len("file:") :].partition("?")
        if "mode=memory" in query or path in ("", ":memory:"):
            return None
        database = path
    return Path(database).expanduser()


class WriterQueue:
    """Serialises write transactions across threads and, for a file, across processes.

    ``turn()`` is held around the whole write transaction, from before ``BEGIN IMMEDIATE``
    until after ``COMMIT`` or ``ROLLBACK``; ``sync()`` follows a commit, outside the turn. A
    thread that asks for a turn while it holds one gets a ``UsageError``: it would wait for
    itself. ``database`` None (in memory) queues the threads only and has nothing to sync.
    """

    __slots__ = (
        "__weakref__",
        "_durable",
        "_flushing",
        "_holder",
        "_lock",
        "_written",
        "lock_path",
        "wal_path",
    )

    def __init__(self, database: Path | None) -> None:
        self.lock_path = None if database is None else database.with_name(database.name + ".lock")
        self.wal_path = None if database is None else database.with_name(database.name + "-wal")
        self._lock = threading.Lock()
        self._holder: int | None = None
        self._written = 0  # commits of this process, numbered in their turns
        self._durable = 0  # the last of them known to be on disk
        self._flushing = threading.Lock()  # not the turn's lock: a flush never waits for a writer
        _QUEUES.add(self)

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this process's turn, then for the file's; release both on exit."""
        self._check_holder()
        self._lock.acquire()
        try:
            fd = self._flock()
        except BaseException:
            self._lock.release()
            raise
        self._holder = threading.get_ident()
        with self._held(fd):
            yield

    @contextmanager
    def _held(self, fd: int | None) -> Iterator[None]:
        try:
            yield
        finally:
            if fd is not None:
                os.close(fd)  # closing the only descriptor releases the flock
            self._holder = None
            self._lock.release()

    def _check_holder(self) -> None:
        if self._holder == threading.get_ident():
            raise UsageError("a write transaction is already open in this thread: it would wait for itself")

    def _flock(self) -> int | None:
        """Lock ``<database>.lock`` (None in memory), waiting for it."""
        if self.lock_path is None:
            return None
        fd = os.open(self.lock_path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            # Blocks, without the GIL, until our turn.
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def committed(self) -> int:
        """Number the commit just made in this turn (call it before the turn ends)."""
        self._written += 1
        return self._written

    def sync(self, upto: int | None = None) -> bool:
        """Flush the WAL file to disk: every transaction committed so far becomes durable.

        ``upto`` is the caller's commit number (:meth:`committed`): a flush another thread of
        this process started after that commit already covers it, so threads that commit
        together share one flush (group commit). False when there is no WAL file to flush (in
        memory, or checkpointed and removed: its content is then in the flushed database file).
        """
        if self.wal_path is None:
            return False
        with self._flushing:
            if upto is not None and self._durable >= upto:
                return True
            covered = self._written  # every commit numbered so far is in the WAL file
            try:
                fd = os.open(self.wal_path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                return False
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            self._durable = max(self._durable, covered)
        return True

    def _after_fork(self) -> None:
        # A fork while another thread held the lock would leave the child's copy locked forever.
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._holder = None


def _reset_after_fork() -> None:
    for queue in list(_QUEUES):
        queue._after_fork()


os.register_at_fork(after_in_child=_reset_after_fork)
