"""Persistence: submissions, responses, the payer stores, the audit log and the outbox.

SQLAlchemy 2 on a SQLite file (the embedded default) or PostgreSQL, with the schema managed
by the Alembic migrations shipped in ``adapter.store.migrations``. See docs/persistence.md.
"""

from __future__ import annotations

from adapter.store.database import Store
from adapter.store.records import (
    DuplicateSubmissionError,
    NewSubmission,
    OutboxEvent,
    StoredSubmission,
    Visibility,
)
from adapter.store.tx import Tx

__all__ = [
    "DuplicateSubmissionError",
    "NewSubmission",
    "OutboxEvent",
    "Store",
    "StoredSubmission",
    "Tx",
    "Visibility",
]
