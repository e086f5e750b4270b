"""Engines per backend: a SQLite file (the embedded default) or PostgreSQL through psycopg 3.

SQLite serialises writers on the whole file, so every write transaction starts with
``BEGIN IMMEDIATE``: a second writer waits instead of failing with "database is locked" when
its read lock would have to be upgraded. That needs pysqlite's own transaction handling
switched off, so this module emits every BEGIN itself. The store queues its own writers
before that BEGIN and flushes the WAL after the commit (``adapter.store.writelock``), which
is why a WAL connection runs ``synchronous = NORMAL``; the busy timeout is for other writers.
PostgreSQL runs READ COMMITTED and serialises what must be serialised with
transaction-scoped advisory locks.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from adapter.errors import UsageError

__all__ = [
    "BEGIN_MODE",
    "SQLITE_BUSY_TIMEOUT_MS",
    "Backend",
    "backend_of",
    "create_engine_for",
    "lock_id",
    "normalise_url",
]

Backend = Literal["sqlite", "postgresql"]

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite connection waits for a lock before giving up: in practice a lock held by
a writer outside the store's queue (the ``sqlite3`` shell, a backup), or a checkpoint."""

BEGIN_MODE = "adapter_sqlite_begin"
"""Connection execution option: ``"IMMEDIATE"`` makes the next SQLite transaction a writer."""

_BEGIN = {"DEFERRED": "BEGIN", "IMMEDIATE": "BEGIN IMMEDIATE"}


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL; a driverless ``postgresql://`` (or ``postgres://``) gets psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def backend_of(url: str | URL) -> Backend:
    """The backend a URL names; anything but SQLite and PostgreSQL is refused."""
    name = normalise_url(url).get_backend_name()
    if name == "sqlite":
        return "sqlite"
    if name == "postgresql":
        return "postgresql"
    raise UsageError(f"unsupported database backend {name!r}: use sqlite or postgresql")


def lock_id(key: str) -> int:
    """A signed 64-bit advisory-lock id for a lock key (first 8 bytes of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big", signed=True)


def create_engine_for(url: str | URL) -> Engine:
    """An engine configured for its backend (see the module docstring)."""
    parsed = normalise_url(url)
    if backend_of(parsed) == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, isolation_level="READ COMMITTED", pool_pre_ping=True)


def _sqlite_in_memory(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or (database.startswith("file:") and "mode=memory" in database)


def _sqlite_engine(url: URL) -> Engine:
    kwargs: dict[str, Any]
    if _sqlite_in_memory(url):
        # One shared connection: an in-memory database exists only inside it.
        kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    else:
        database = url.database or ""
        if not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        kwargs = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Take transaction control away from pysqlite: it would BEGIN late and never IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS:d}")
        (mode,) = cursor.execute("PRAGMA journal_mode = WAL").fetchone()
        # In WAL mode the store itself flushes the WAL after each commit, outside the write
        # lock (WriterQueue.sync); any other journal (in memory) keeps SQLite's own fsyncs.
        cursor.execute("PRAGMA synchronous = NORMAL" if mode == "wal" else "PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(BEGIN_MODE, "DEFERRED")
    connection.exec_driver_sql(_BEGIN[mode])
