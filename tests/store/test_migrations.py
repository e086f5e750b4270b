"""Migrations: applied from empty, idempotent, and in agreement with the models."""

from __future__ import annotations

from dataclasses import fields

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from adapter.errors import StoreConflict
from adapter.store import Store
from adapter.store.database import MIGRATIONS
from adapter.store.models import Base
from tests.support.submissions import submission

COLUMNS = ("raw", "request_json", "amo_decision_json", "amc_decision_json", "findings_json", "response_json")
TABLES = {
    "alembic_version",
    "cancellations",
    "audit_log",
    "delivery_records",
    "eligibility_checks",
    "ledger_entries",
    "outbox",
    "submission_versions",
    "submissions",
}


#: Submission fields that later revisions added.
_AFTER_0004 = frozenset({"state", "version", "updated_at", "dead_reason"})


def _head() -> str | None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def test_migrating_an_empty_database_twice_is_idempotent(empty_url: str) -> None:
    """open() migrates to head; migrating again, or reopening, changes nothing."""
    store = Store.open(empty_url, migrate=False)
    try:
        assert set(inspect(store.engine).get_table_names()) == set()
        store.migrate()
        store.migrate()
        with store.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == _head() == "0008"
            assert set(inspect(connection).get_table_names()) == TABLES
    finally:
        store.dispose()
    again = Store.open(empty_url)
    try:
        assert again.ping()
    finally:
        again.dispose()


def test_the_migrations_match_the_models(empty_url: str) -> None:
    """Alembic autogenerate finds no difference between the migrated schema and the models."""
    store = Store.open(empty_url)
    try:
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        store.dispose()


def _compression(store: Store) -> dict[str, str]:
    """Each large submissions column's compression method (``l`` lz4, ``p`` pglz, empty: the default)."""
    query = text(
        "SELECT attname, attcompression FROM pg_attribute "
        "WHERE attrelid = 'submissions'::regclass AND attname = ANY(:names)"
    )
    with store.engine.connect() as connection:
        rows = connection.execute(query, {"names": list(COLUMNS)}).all()
    return {name: str(method or "") for name, method in rows}


def test_postgresql_compresses_the_large_columns_with_lz4(empty_url: str) -> None:
    """Revision 0002 sets lz4 on PostgreSQL (built with lz4 here) and its downgrade puts the default back."""
    store = Store.open(empty_url)
    try:
        if store.backend != "postgresql":
            with store.engine.connect() as connection:  # SQLite: the revision is applied and does nothing
                assert MigrationContext.configure(connection).get_current_revision() == _head()
            return
        assert _compression(store) == dict.fromkeys(COLUMNS, "l")
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with store.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
        assert _compression(store) == dict.fromkeys(COLUMNS, "")
        store.migrate()
        assert _compression(store) == dict.fromkeys(COLUMNS, "l")
    finally:
        store.dispose()


class _Interrupted(Exception):
    pass


def test_a_migration_that_fails_leaves_nothing_behind(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migrations run in one transaction with their lock (on PostgreSQL not in the autocommit mode
    of the store's other connections): one that fails after its statements is rolled back whole."""
    store = Store.open(empty_url, migrate=False)
    real = command.upgrade

    def upgrade_then_fail(config: Config, revision: str) -> None:
        real(config, revision)
        raise _Interrupted

    monkeypatch.setattr(command, "upgrade", upgrade_then_fail)
    try:
        with pytest.raises(_Interrupted):
            store.migrate()
        assert not set(inspect(store.engine).get_table_names()) & TABLES
    finally:
        store.dispose()


def _upgrade(store: Store, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_revision_0003_keeps_stored_rows_and_scopes_the_key_to_the_tenant(empty_url: str) -> None:
    """A row stored under revision 0002 survives the upgrade with its id and key; afterwards another
    tenant may store the same key, and the same tenant still may not."""
    store = Store.open(empty_url, migrate=False)
    try:
        _upgrade(store, "0002")
        old = submission(1)
        # the columns revision 0002 had (later revisions add state, version…)
        columns = [f.name for f in fields(old) if f.name not in _AFTER_0004]
        insert = text(
            f"INSERT INTO submissions ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"  # noqa: S608 - column names from the dataclass
        )
        row = {name: getattr(old, name) for name in columns}
        with store.engine.begin() as connection:
            connection.execute(insert, row)
        store.migrate()
        with store.read() as tx:
            found = tx.find_submission(old.client_id, old.key_system, old.key_value)
        assert found is not None
        assert found.id == old.id
        other = submission(2, key_value=old.key_value, client_id="hospital-b")
        with store.write() as tx:
            tx.insert_submission(other)
        with store.read() as tx:
            assert tx.find_submission("hospital-b", old.key_system, old.key_value) is not None
        with pytest.raises(StoreConflict), store.write() as tx:
            tx.insert_submission(submission(3, key_value=old.key_value))
    finally:
        store.dispose()
