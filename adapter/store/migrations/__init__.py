"""Alembic migrations of the store, applied by ``Store.migrate()`` (no alembic.ini needed)."""
