"""Eligibility checks: who asked which question, when, with which outcome, and the answer.

Revision ID: 0008
Revises: 0007

``CoverageEligibilityRequest/$submit`` consumes nothing, but each answered question is kept
as its tenant's audit record, its answer replayed when the same Bundle.identifier comes back
with the same content (409 with other content).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    op.create_table(
        "eligibility_checks",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("key_system", sa.Text(), nullable=False),
        sa.Column("key_value", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("response_json", sa.LargeBinary(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_eligibility_checks"),
        sa.UniqueConstraint(
            "client_id",
            "key_system",
            "key_value",
            name="uq_eligibility_checks_client_id_key_system_key_value",
        ),
    )
    op.create_index("ix_eligibility_checks_client_id", "eligibility_checks", ["client_id"])
    op.create_index("ix_eligibility_checks_asked_at", "eligibility_checks", ["asked_at"])


def downgrade() -> None:
    op.drop_index("ix_eligibility_checks_asked_at", table_name="eligibility_checks")
    op.drop_index("ix_eligibility_checks_client_id", table_name="eligibility_checks")
    op.drop_table("eligibility_checks")
