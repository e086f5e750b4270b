"""Cancellations: a withdrawn claim, who withdrew it and why, and the records it no longer holds.

Revision ID: 0007
Revises: 0006

``POST /Claim/$cancel`` withdraws a decided claim: its answer gets a new version (state
``cancelled``), a ``cancellations`` row says who cancelled it, when and why, and the delivery
records and forfait ledger entries it consumed are marked ``reversed_at`` rather than deleted,
so that the beneficiary's history no longer counts them while the audit keeps them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "cancellations",
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("reason_code", sa.String(32), nullable=False),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("submission_id", name="pk_cancellations"),
    )
    with op.batch_alter_table("delivery_records") as batch:
        batch.add_column(sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("reversed_at")
    with op.batch_alter_table("delivery_records") as batch:
        batch.drop_column("reversed_at")
    op.drop_table("cancellations")
