"""Deliveries: the events pushed out to the mutuelles and the event stream, one row per target.

Revision ID: 0008
Revises: 0005

The dispatcher turns each outbox event into the events it announces and one ``deliveries`` row
per (event, destination, target), then stamps the outbox event ``dispatched_at``. A delivery is
``pending`` (due at ``next_attempt_at``, or leased until then), ``delivered`` or ``dead`` (the
receiver refused it, or the attempts ran out: ``last_error`` says why). See docs/delivery.md.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0005"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_outbox_dispatched_at", ["dispatched_at"])
    serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "deliveries",
        sa.Column("id", serial, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("claim_id", sa.String(36), nullable=False),
        sa.Column("tenant", sa.String(255), nullable=False),
        sa.Column("destination", sa.String(32), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("event_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint(
            "event_id", "destination", "target", name="uq_deliveries_event_id_destination_target"
        ),
    )
    op.create_index("ix_deliveries_claim_id", "deliveries", ["claim_id"])
    op.create_index("ix_deliveries_state_next_attempt_at", "deliveries", ["state", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_state_next_attempt_at", table_name="deliveries")
    op.drop_index("ix_deliveries_claim_id", table_name="deliveries")
    op.drop_table("deliveries")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_dispatched_at")
        batch.drop_column("dispatched_at")
