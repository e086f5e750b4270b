"""Engine set-up: URL normalisation, backend choice, readiness, SQLite file placement."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from adapter.errors import UsageError
from adapter.store import Store
from adapter.store.engine import (
    backend_of,
    create_engine_for,
    lock_id,
    normalise_url,
    with_driver_transactions,
)
from tests.support.submissions import T0


@pytest.mark.parametrize("url", ["postgresql://u@db.example:5432/adapter", "postgres://u@db.example/adapter"])
def test_driverless_postgresql_urls_get_psycopg_3(url: str) -> None:
    """postgresql:// and postgres:// are read as postgresql+psycopg://."""
    assert normalise_url(url).drivername == "postgresql+psycopg"
    assert backend_of(url) == "postgresql"


def test_other_urls_are_kept_or_refused() -> None:
    """An explicit driver is kept; a backend other than SQLite or PostgreSQL is refused."""
    assert normalise_url("postgresql+psycopg://u@h/d").drivername == "postgresql+psycopg"
    assert backend_of("sqlite:///var/adapter.sqlite3") == "sqlite"
    with pytest.raises(UsageError):
        backend_of("mysql://u@h/d")


def test_lock_ids_are_stable_signed_64_bit_integers() -> None:
    """The same key always maps to the same bigint; different keys to different ones."""
    assert lock_id("SUB-1") == lock_id("SUB-1") != lock_id("SUB-2")
    assert all(-(2**63) <= lock_id(key) < 2**63 for key in ("", "SUB-1", "é" * 500))


def test_open_creates_the_sqlite_directory_and_pings(tmp_path: Path) -> None:
    """A SQLite file under missing directories is created, migrated and ready."""
    target = tmp_path / "a" / "b" / "adapter.sqlite3"
    store = Store.open(f"sqlite:///{target}")
    try:
        assert store.ping()
        assert target.is_file()
    finally:
        store.dispose()


def test_in_memory_sqlite_works_for_a_single_process() -> None:
    """sqlite:// (in memory) migrates and stores within one engine."""
    store = Store.open("sqlite://")
    try:
        with store.write() as tx:
            tx.enqueue(topic="t", payload={}, at=T0)
        with store.write() as tx:
            assert len(tx.claim_outbox("w", limit=5, now=T0)) == 1
    finally:
        store.dispose()


def test_ping_is_false_when_the_server_is_unreachable() -> None:
    """Readiness reports False instead of raising when the database cannot be reached."""
    store = Store(create_engine_for("postgresql://nobody@127.0.0.1:9/none?connect_timeout=2"))
    try:
        assert store.ping() is False
    finally:
        store.dispose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_postgresql_connections_autocommit_except_for_migrations(store: Store) -> None:
    """The store sends its own BEGIN and COMMIT, so its engine's connections are in the driver's
    autocommit mode; Alembic's connections (``with_driver_transactions``) roll back as usual."""
    with store.engine.connect() as connection:
        connection.execute(text("CREATE TABLE kept (n integer)"))
        connection.rollback()
    with with_driver_transactions(store.engine).connect() as connection:
        connection.execute(text("CREATE TABLE rolled_back (n integer)"))
        connection.rollback()
    assert {"kept"} <= set(inspect(store.engine).get_table_names())
    assert "rolled_back" not in inspect(store.engine).get_table_names()
