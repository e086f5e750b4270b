"""Retention: a submission's body and request may be purged, its answer and hashes kept.

Revision ID: 0004
Revises: 0003

``raw`` (the body as received) and ``request_json`` (the request read from it) become nullable,
and ``purged_at`` records when ``adapter purge`` emptied them. What idempotency and the audit
need stays: the content hash, the ids, the key, the organisation columns and the exact answer,
so a replay still answers byte for byte (docs/persistence.md, "Retention and purge").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.alter_column("raw", existing_type=sa.LargeBinary(), nullable=True)
        batch.alter_column("request_json", existing_type=sa.Text(), nullable=True)
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Fails on a database holding purged rows: their bodies are gone for good."""
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("purged_at")
        batch.alter_column("request_json", existing_type=sa.Text(), nullable=False)
        batch.alter_column("raw", existing_type=sa.LargeBinary(), nullable=False)
