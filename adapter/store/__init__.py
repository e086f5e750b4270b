"""Persistence: submissions, responses, the payer records, the audit log and the outbox.

SQLAlchemy 2 on a SQLite file (the embedded default) or PostgreSQL, with the schema managed
by the Alembic migrations shipped in ``adapter.store.migrations``. Nothing outside this
package imports SQLAlchemy: the store raises ``adapter.errors.StoreError`` for what the
database refuses. See docs/persistence.md.
"""

from __future__ import annotations

from adapter.store.cancellations import Cancellation
from adapter.store.database import Store
from adapter.store.eligibility import EligibilityCheck
from adapter.store.engine import DbTimeouts
from adapter.store.records import NewSubmission, OutboxEvent, StoredSubmission
from adapter.store.rows import submission_row
from adapter.store.tx import Tx

__all__ = [
    "Cancellation",
    "DbTimeouts",
    "EligibilityCheck",
    "NewSubmission",
    "OutboxEvent",
    "Store",
    "StoredSubmission",
    "Tx",
    "submission_row",
]
