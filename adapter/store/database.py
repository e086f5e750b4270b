"""The store: opens the database, applies migrations and hands out transactions."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from adapter.errors import StoreConflict, StoreConnectionLost, StoreError, StoreUnavailable
from adapter.store.deadline import WATCHDOG
from adapter.store.engine import (
    BEGIN_MODE,
    Backend,
    DbTimeouts,
    backend_of,
    create_engine_for,
    lock_id,
    with_driver_transactions,
)
from adapter.store.prepared import Prepared
from adapter.store.tx import Tx
from adapter.store.writelock import CHECKPOINT_EVERY, WriterQueue, database_path

__all__ = ["MIGRATIONS", "DbTimeouts", "Store"]

_log = logging.getLogger("adapter.store")

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = lock_id("adapter.store:migrate")


def _check_keys(lock_keys: Sequence[str]) -> None:
    if isinstance(lock_keys, str):
        raise TypeError("lock_keys is a sequence of keys, not one string")


@cache
def _advisory_locks(count: int) -> Prepared:
    """One statement for all the lock keys of a transaction, taken left to right.

    PostgreSQL evaluates a select list in order, so ids passed sorted are locked sorted.
    """
    calls = ", ".join(f"pg_advisory_xact_lock(:k{n})" for n in range(count))
    return Prepared(text(f"SELECT {calls}"))


def _reason(exc: BaseException) -> str:
    """The driver's first line about a failure (no statement, no parameters, no traceback)."""
    cause = getattr(exc, "orig", None) or exc
    text_ = str(cause).strip().splitlines()
    return (text_[0] if text_ else type(cause).__name__)[:300]


class _Health:
    """Whether the database answered last time: each change is logged once, at ERROR.

    The state is unknown until the first answer or failure, which is not a change: a store that
    cannot reach its database when it opens raises, and its caller says so (``startup.failed``).
    """

    def __init__(self, database: str) -> None:
        self.database = database
        self.up: bool | None = None
        self._lock = threading.Lock()

    def _changed(self, up: bool) -> bool:
        with self._lock:
            changed, self.up = self.up is not None and self.up != up, up
        return changed

    def failed(self, exc: BaseException) -> None:
        if not self._changed(False):
            return
        _log.error(
            "store.down: the database %s is unavailable (%s: %s)",
            self.database,
            type(getattr(exc, "orig", None) or exc).__name__,
            _reason(exc),
        )

    def answered(self) -> None:
        if self.up is True or not self._changed(True):  # the first test spares the lock while all is well
            return
        _log.error("store.up: the database %s answers again", self.database)


class Store:
    """A SQLite file or a PostgreSQL database behind one API; thread-safe, process-safe.

    Build it with :meth:`open` at the composition root and share it; each request takes its
    own transaction with :meth:`write` or :meth:`read`.
    """

    def __init__(self, engine: Engine, timeouts: DbTimeouts | None = None) -> None:
        self._engine = engine
        self.timeouts = timeouts or DbTimeouts()
        self.database = engine.url.render_as_string(hide_password=True)
        self._health = _Health(self.database)
        # Writers take SQLite's write lock at BEGIN; the option is set once, on an engine that
        # shares the pool, rather than on every connection. On PostgreSQL the statement queue
        # opens each transaction with its first batch (and a writer's commits with its last):
        # the engine's connections are in the driver's autocommit mode (``create_engine_for``).
        self.backend: Backend = backend_of(engine.url)
        self._writer_engine = (
            engine.execution_options(**{BEGIN_MODE: "IMMEDIATE"}) if self.backend == "sqlite" else engine
        )
        self._writers = (
            WriterQueue(database_path(engine.url.database or "")) if self.backend == "sqlite" else None
        )

    @classmethod
    def open(cls, url: str, *, migrate: bool = True, timeouts: DbTimeouts | None = None) -> Store:
        """Connect to ``url`` (creating a SQLite file's directory) and, by default, migrate.

        A database that cannot be reached raises ``StoreUnavailable`` naming it (never its
        password)."""
        store = cls(create_engine_for(url, timeouts), timeouts)
        if migrate:
            try:
                store.migrate()
            except BaseException:
                store.dispose()
                raise
        return store

    @property
    def engine(self) -> Engine:
        return self._engine

    def migrate(self) -> None:
        """Upgrade the schema to the latest revision; concurrent callers wait for each other."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
        # On PostgreSQL, Alembic's statements and the migration lock run in a transaction of the
        # driver's own, not in autocommit mode.
        migrating = (
            self._writer_engine if self.backend == "sqlite" else with_driver_transactions(self._engine)
        )
        with self._translated(), self._writer_turn(), migrating.connect() as connection, connection.begin():
            if self.backend == "postgresql":
                _advisory_locks(1).all(connection, {"k0": _MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        self._sync()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """The driver's errors as the store's own (``adapter.errors.StoreError``), so that nothing
        outside the store needs SQLAlchemy to tell a taken key, a lost connection or a database
        that cannot be reached; and the database's state, logged when it changes."""
        try:
            yield
        except IntegrityError as exc:
            raise StoreConflict("a unique key is already taken") from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                self._health.failed(exc)
                raise StoreConnectionLost(
                    f"the connection to {self.database} was lost under a transaction",
                    retry_after=self.timeouts.retry_after,
                ) from exc
            if isinstance(exc, OperationalError):
                self._health.failed(exc)
                raise StoreUnavailable(
                    f"the database {self.database} is unavailable: {_reason(exc)}",
                    retry_after=self.timeouts.retry_after,
                ) from exc
            raise
        except PoolTimeout as exc:
            self._health.failed(exc)
            raise StoreUnavailable(
                f"no connection to {self.database} came free within {self.timeouts.pool:g} s",
                retry_after=self.timeouts.retry_after,
            ) from exc
        self._health.answered()

    @contextmanager
    def _deadline(self, connection: Connection) -> Iterator[None]:
        """On PostgreSQL, the transaction's client-side deadline (``adapter.store.deadline``)."""
        if self.backend != "postgresql":
            yield
            return
        fd = connection.connection.dbapi_connection.fileno()  # type: ignore[union-attr]
        with WATCHDOG.guard(fd, self.timeouts.statement):
            yield

    def ping(self) -> bool:
        """True when the database answers ``SELECT 1`` (readiness), within the store's timeouts."""
        try:
            with self._translated(), self._engine.connect() as connection, self._deadline(connection):
                return bool(connection.execute(text("SELECT 1")).scalar_one() == 1)
        except (StoreError, SQLAlchemyError, OSError):
            return False

    def write(self, *, lock_keys: Sequence[str] = ()) -> AbstractContextManager[Tx]:
        """A write transaction: commits on normal exit, rolls back on an exception.

        On PostgreSQL each lock key becomes a transaction-scoped advisory lock, all taken in
        one statement in a fixed order, so that two transactions never deadlock on them; that
        statement is queued and travels with the BEGIN and the transaction's first read or
        write, and the queued writes travel with the COMMIT (``adapter.store.prepared``). On
        SQLite the transaction first waits its turn in the writer queue
        (``adapter.store.writelock``) and then holds the database's write lock
        (``BEGIN IMMEDIATE``), which covers every key; the turn ends after the commit or
        rollback, and a commit is flushed to disk before this returns.
        """
        _check_keys(lock_keys)
        return self._write(self._writer_turn(), lock_keys)

    @contextmanager
    def _write(self, turn: AbstractContextManager[None], lock_keys: Sequence[str]) -> Iterator[Tx]:
        with self._translated(), turn:
            with self._connect(writer=True) as connection, self._deadline(connection), connection.begin():
                tx = Tx(connection, writable=True, begin="BEGIN" if self.backend == "postgresql" else None)
                if self.backend == "postgresql" and lock_keys:
                    ids = sorted({lock_id(key) for key in lock_keys})
                    tx.queue.read(_advisory_locks(len(ids)), {f"k{n}": id_ for n, id_ in enumerate(ids)})
                yield tx
                tx.queue.send(commit=True)
            number = self._writers.committed() if self._writers is not None else None
        self._sync(number)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction: one consistent view on SQLite, statement-level on PostgreSQL,
        where each batch of reads is a transaction of its own (``BEGIN READ ONLY``, the reads and
        ``COMMIT`` in one round trip) and a direct use of the connection opens one that ends here."""
        begin = "BEGIN READ ONLY" if self.backend == "postgresql" else None
        with (
            self._translated(),
            self._connect(writer=False) as connection,
            self._deadline(connection),
            connection.begin(),
        ):
            yield Tx(connection, writable=False, begin=begin)

    def dispose(self) -> None:
        """Close every pooled connection (at shutdown, or in a child process after fork)."""
        self._engine.dispose()

    def _writer_turn(self) -> AbstractContextManager[None]:
        return nullcontext() if self._writers is None else self._writers.turn()

    def _sync(self, number: int | None = None) -> None:
        """After SQLite commit ``number``, outside the turn: the next writer runs while the disk
        flushes, and every ``CHECKPOINT_EVERY`` commits of this process the WAL is copied into
        the database."""
        if (
            self._writers is not None
            and self._writers.sync(number)
            and number
            and not number % CHECKPOINT_EVERY
        ):
            self.checkpoint()

    def checkpoint(self) -> None:
        """Copy the SQLite WAL into the database file (a PASSIVE checkpoint: writers go on meanwhile).

        Connections never checkpoint on their own (``wal_autocheckpoint = 0``): SQLite would do
        it inside a COMMIT, holding the write lock for milliseconds every thousand pages. A
        checkpoint another process is running makes this one a no-op.
        """
        if self.backend != "sqlite":
            return
        with self._engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").all()
            connection.rollback()

    def _connect(self, *, writer: bool) -> Connection:
        return (self._writer_engine if writer else self._engine).connect()
