"""Alembic environment: migrates the connection ``Store.migrate()`` passes in.

Run from the ``alembic`` command line instead (``sqlalchemy.url`` set), it opens its own
engine configured like the store's; ``--sql`` renders the DDL without connecting.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from adapter.store.engine import create_engine_for, normalise_url, with_driver_transactions
from adapter.store.models import Base

config = context.config


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _offline() -> None:
    context.configure(
        url=normalise_url(config.get_main_option("sqlalchemy.url") or ""),
        target_metadata=Base.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _online() -> None:
    connection = config.attributes.get("connection")
    if isinstance(connection, Connection):
        _migrate(connection)
        return
    engine = create_engine_for(config.get_main_option("sqlalchemy.url") or "")
    try:
        with with_driver_transactions(engine).connect() as own:
            _migrate(own)
            own.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    _offline()
else:
    _online()
