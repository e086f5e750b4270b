"""The store: opens the database, applies migrations and hands out transactions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from adapter.store.engine import BEGIN_MODE, Backend, backend_of, create_engine_for, lock_id
from adapter.store.tx import Tx

__all__ = ["MIGRATIONS", "Store"]

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = lock_id("adapter.store:migrate")


class Store:
    """A SQLite file or a PostgreSQL database behind one API; thread-safe, process-safe.

    Build it with :meth:`open` at the composition root and share it; each request takes its
    own transaction with :meth:`write` or :meth:`read`.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.backend: Backend = backend_of(engine.url)

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect to ``url`` (creating a SQLite file's directory) and, by default, migrate."""
        store = cls(create_engine_for(url))
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
        with self._connect(writer=True) as connection, connection.begin():
            if self.backend == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def ping(self) -> bool:
        """True when the database answers ``SELECT 1`` (readiness)."""
        try:
            with self._engine.connect() as connection:
                return bool(connection.execute(text("SELECT 1")).scalar_one() == 1)
        except (SQLAlchemyError, OSError):
            return False

    @contextmanager
    def write(self, *, lock_keys: Sequence[str] = ()) -> Iterator[Tx]:
        """A write transaction: commits on normal exit, rolls back on an exception.

        On PostgreSQL each lock key becomes a transaction-scoped advisory lock, taken in a
        fixed order so that two transactions never deadlock on them; on SQLite the whole
        transaction holds the database's write lock (``BEGIN IMMEDIATE``), which covers them.
        """
        if isinstance(lock_keys, str):
            raise TypeError("lock_keys is a sequence of keys, not one string")
        with self._connect(writer=True) as connection, connection.begin():
            if self.backend == "postgresql":
                for key in sorted({lock_id(key) for key in lock_keys}):
                    connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": key})
            with Session(bind=connection, autoflush=False, expire_on_commit=False) as session:
                yield Tx(session, writable=True)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """A read-only transaction: one consistent view on SQLite, statement-level on PostgreSQL."""
        with self._connect(writer=False) as connection, connection.begin():
            if self.backend == "postgresql":
                connection.execute(text("SET TRANSACTION READ ONLY"))
            with Session(bind=connection, autoflush=False, expire_on_commit=False) as session:
                yield Tx(session, writable=False)

    def dispose(self) -> None:
        """Close every pooled connection (at shutdown, or in a child process after fork)."""
        self._engine.dispose()

    def _connect(self, *, writer: bool) -> Connection:
        connection = self._engine.connect()
        if writer and self.backend == "sqlite":
            connection.execution_options(**{BEGIN_MODE: "IMMEDIATE"})
        return connection
