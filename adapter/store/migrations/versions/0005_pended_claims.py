"""Pended claims: a submission's state and version, the versions it had, and the dead letters.

Revision ID: 0005
Revises: 0004

With remote payers a claim may be stored before they decide (``state`` ``pending``, its
answer ``queued``), completed later by a worker (a new ``version`` of its answer, the earlier
one kept in ``submission_versions``), or put aside when the payers never answered
(``dead``, with ``dead_reason``). Every row stored before is ``complete``, version 1.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("state", sa.String(16), nullable=False, server_default="complete"))
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("dead_reason", sa.Text(), nullable=True))
        batch.create_index("ix_submissions_state", ["state"])
    op.create_table(
        "submission_versions",
        sa.Column("submission_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("response_json", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("submission_id", "version", name="pk_submission_versions"),
    )


def downgrade() -> None:
    op.drop_table("submission_versions")
    with op.batch_alter_table("submissions") as batch:
        batch.drop_index("ix_submissions_state")
        batch.drop_column("dead_reason")
        batch.drop_column("updated_at")
        batch.drop_column("version")
        batch.drop_column("state")
