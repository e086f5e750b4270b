"""Engines per backend: a SQLite file (the embedded default) or PostgreSQL through psycopg 3.

SQLite serialises writers on the whole file, so every write transaction starts with
``BEGIN IMMEDIATE``: a second writer waits instead of failing with "database is locked" when
its read lock would have to be upgraded. That needs pysqlite's own transaction handling
switched off, so this module emits every BEGIN itself. The store queues its own writers
before that BEGIN and flushes the WAL after the commit (``adapter.store.writelock``), which
is why a WAL connection runs ``synchronous = NORMAL``; the busy timeout is for other writers.
PostgreSQL runs READ COMMITTED and serialises what must be serialised with
transaction-scoped advisory locks; its connections are in the driver's autocommit mode, because
the store's transactions send their own BEGIN and COMMIT with their first and last batches, and a
pooled connection is pinged only after it sat idle.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from adapter.errors import UsageError
from adapter.store.deadline import WATCHDOG

__all__ = [
    "BEGIN_MODE",
    "SQLITE_BUSY_TIMEOUT_MS",
    "Backend",
    "DbTimeouts",
    "backend_of",
    "create_engine_for",
    "lock_id",
    "normalise_url",
    "with_driver_transactions",
]

Backend = Literal["sqlite", "postgresql"]

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite connection waits for a lock before giving up: in practice a lock held by
a writer outside the store's queue (the ``sqlite3`` shell, a backup), or a checkpoint."""

BEGIN_MODE = "adapter_sqlite_begin"
"""Connection execution option: ``"IMMEDIATE"`` makes the next SQLite transaction a writer."""

_BEGIN = {"DEFERRED": "BEGIN", "IMMEDIATE": "BEGIN IMMEDIATE"}


@dataclass(frozen=True, slots=True)
class DbTimeouts:
    """How long the store waits on the database before it reports it unavailable (seconds).

    ``connect``: to open a connection (PostgreSQL's ``connect_timeout``; SQLite opens a file).
    ``statement``: a PostgreSQL statement (``statement_timeout``, sent as a connection option)
    and, client-side, a whole transaction (``adapter.store.deadline``), which also bounds a
    server that stopped answering. ``pool``: to get a connection from a full pool.
    ``retry_after``: what the 503 that follows tells the client to wait.
    """

    connect: float = 5.0
    statement: float = 10.0
    pool: float = 5.0
    retry_after: int = 5


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


def create_engine_for(url: str | URL, timeouts: DbTimeouts | None = None) -> Engine:
    """An engine configured for its backend (see the module docstring)."""
    parsed = normalise_url(url)
    timeouts = timeouts or DbTimeouts()
    if backend_of(parsed) == "sqlite":
        return _sqlite_engine(parsed, timeouts)
    # Bounded waits: a connection attempt, a statement on the server, a checkout from a full pool.
    # libpq counts connect_timeout in whole seconds, at least 2; a URL's own values win.
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in parsed.query:
        connect_args["connect_timeout"] = max(2, round(timeouts.connect))
    if "options" not in parsed.query:
        connect_args["options"] = f"-c statement_timeout={round(timeouts.statement * 1000):d}"
    # Autocommit in the driver: the store sends BEGIN and COMMIT itself, with its batches
    # (adapter.store.prepared); set once per connection here rather than at every checkout.
    # Positional parameters (%s): psycopg then binds a tuple as it is, instead of reordering a
    # dict at every execution.
    engine = create_engine(
        parsed,
        isolation_level="AUTOCOMMIT",
        paramstyle="format",
        pool_timeout=timeouts.pool,
        connect_args=connect_args,
    )
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle(timeouts.statement))
    return engine


def with_driver_transactions(engine: Engine) -> Engine:
    """The engine for code that relies on the driver's own transactions (Alembic's migrations):
    on PostgreSQL, not in the autocommit mode the store's connections use."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="READ COMMITTED")


IDLE_PING_SECONDS = 5.0
"""A pooled PostgreSQL connection idle longer than this is pinged before use."""


def _note_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["checked_in_at"] = time.monotonic()


def _ping_if_idle(seconds: float) -> Any:
    """Pessimistic disconnect handling, but only after idleness.

    ``pool_pre_ping`` would cost a round trip per transaction (a fifth of a submit on
    PostgreSQL). A connection in steady use is not pinged: if the server went away meanwhile,
    the first statement fails, the store invalidates the connection, and the service retries a
    submit once on a fresh one (a submit is idempotent). One idle for a while (a restart
    overnight) is pinged, and a dead one is replaced before anyone sees it. The ping has the
    store's deadline: a server that stopped answering fails it instead of holding the checkout.
    """

    def ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        last = record.info.get("checked_in_at")
        if last is None or time.monotonic() - last < IDLE_PING_SECONDS:
            return
        try:
            with WATCHDOG.guard(dbapi_connection.fileno(), seconds):
                cursor = dbapi_connection.cursor()
                try:
                    cursor.execute("SELECT 1")
                finally:
                    cursor.close()
                dbapi_connection.rollback()  # the ping opened a transaction: the caller's must come first
        except Exception as exc:  # the driver's own error types: any failure means a dead connection
            raise DisconnectionError(str(exc)) from exc

    return ping_if_idle


def owner_only(database: Path) -> None:
    """Create a SQLite database's directory (0700) and file (0600), and tighten an existing file
    and its WAL and shared-memory files to 0600: they hold health data. SQLite gives the WAL and
    shared-memory files it creates the database file's mode."""
    database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # O_EXCL: never open an existing database here, since closing any descriptor of a file
    # drops every POSIX lock this process holds on it, SQLite's included.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        try:
            if path.stat().st_mode & 0o077:
                path.chmod(0o600)
        except FileNotFoundError:
            continue


def _sqlite_in_memory(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or (database.startswith("file:") and "mode=memory" in database)


def _sqlite_engine(url: URL, timeouts: DbTimeouts) -> Engine:
    kwargs: dict[str, Any]
    if _sqlite_in_memory(url):
        # One shared connection: an in-memory database exists only inside it.
        kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    else:
        database = url.database or ""
        if not database.startswith("file:"):
            owner_only(Path(database).expanduser())
        kwargs = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, "pool_timeout": timeouts.pool}
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
        if mode == "wal":
            # Nor does a COMMIT checkpoint: SQLite would copy the WAL into the database inside
            # the write lock, every thousand pages; the store checkpoints after its writers' turns.
            cursor.execute("PRAGMA wal_autocheckpoint = 0")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    # Straight on the driver: through exec_driver_sql, a BEGIN costs as much as a whole INSERT.
    mode = connection.get_execution_options().get(BEGIN_MODE, "DEFERRED")
    try:
        connection.connection.dbapi_connection.execute(_BEGIN[mode])  # type: ignore[union-attr]
    except connection.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            _BEGIN[mode], None, exc, connection.dialect.loaded_dbapi.Error, dialect=connection.dialect
        ) from exc
