"""Shared fixtures. Stores: every store test runs on SQLite, and on PostgreSQL when
ADAPTER_TEST_DATABASE_URL is set.

The PostgreSQL URL is an administrative one: the session creates a throwaway database
(``adapter_test_<hex>``) on that server and drops it at the end, so concurrent runs never
collide. When the variable is set and the server cannot be reached, the PostgreSQL tests
fail; they are skipped (and reported as such) only when the variable is unset.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from adapter.store import Store
from adapter.store.engine import normalise_url
from adapter.store.models import Base
from tests.store.recording import recorded_statements

ENV_VAR = "ADAPTER_TEST_DATABASE_URL"
BACKENDS = ["sqlite", "postgresql"]


class PostgresServer:
    """Creates and drops throwaway databases through an administrative URL."""

    def __init__(self, admin_url: str) -> None:
        self.url: URL = normalise_url(admin_url)
        self._admin: Engine = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._created: list[str] = []
        try:
            with self._admin.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as exc:
            self._admin.dispose()
            pytest.fail(f"{ENV_VAR} is set but PostgreSQL is unreachable: {exc.orig}")

    def create_database(self) -> str:
        name = f"adapter_test_{secrets.token_hex(6)}"
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        self._created.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = normalise_url(url).database
        assert name in self._created
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._created.remove(name)

    def close(self) -> None:
        for name in list(self._created):
            with self._admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._created.clear()
        self._admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The PostgreSQL server named by the environment; skipped when the variable is unset."""
    admin_url = os.environ.get(ENV_VAR)
    if not admin_url:
        pytest.skip(f"{ENV_VAR} is not set: PostgreSQL tests not run")
    server = PostgresServer(admin_url)
    yield server
    server.close()


@pytest.fixture(scope="session")
def postgres_store(postgres: PostgresServer) -> Iterator[Store]:
    """One migrated PostgreSQL database shared by the session (tables emptied per test)."""
    store = Store.open(postgres.create_database())
    yield store
    store.dispose()


def _empty(store: Store) -> None:
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with store.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test."""
    return str(request.param)


@pytest.fixture
def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A migrated, empty store on the backend under test."""
    if backend == "sqlite":
        sqlite_store = Store.open(f"sqlite:///{tmp_path / 'nested' / 'adapter.sqlite3'}")
        yield sqlite_store
        sqlite_store.dispose()
        return
    shared: Store = request.getfixturevalue("postgres_store")
    _empty(shared)
    yield shared
    _empty(shared)


@pytest.fixture
def empty_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The URL of a database with no tables yet, dropped after the test."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh' / 'adapter.sqlite3'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the store's fixed statements send to the driver during the test (``tests.store.recording``)."""
    return recorded_statements(monkeypatch)
