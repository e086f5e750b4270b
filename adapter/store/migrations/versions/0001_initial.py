"""Initial schema: submissions, delivery records, ledger entries, audit log, outbox.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def _serial() -> sa.Column[int]:
    # 64-bit on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True)


def _utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "submissions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("key_system", sa.Text(), nullable=False),
        sa.Column("key_value", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("request_json", sa.Text(), nullable=False),
        sa.Column("amo_decision_json", sa.Text(), nullable=False),
        sa.Column("amc_decision_json", sa.Text(), nullable=True),
        sa.Column("findings_json", sa.Text(), nullable=False),
        sa.Column("response_json", sa.LargeBinary(), nullable=False),
        sa.Column("amo_response_id", sa.String(64), nullable=False),
        sa.Column("amc_response_id", sa.String(64), nullable=True),
        sa.Column("patient_nir", sa.String(15), nullable=False),
        sa.Column("provider_finess", sa.String(9), nullable=True),
        sa.Column("provider_siret", sa.String(14), nullable=True),
        sa.Column("amo_organisme", sa.String(9), nullable=False),
        sa.Column("amc_number", sa.String(10), nullable=True),
        sa.Column("claim_identifier_system", sa.Text(), nullable=True),
        sa.Column("claim_identifier_value", sa.Text(), nullable=True),
        sa.Column("use", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        _utc("received_at"),
        _utc("stored_at"),
        sa.PrimaryKeyConstraint("id", name="pk_submissions"),
        sa.UniqueConstraint("key_system", "key_value", name="uq_submissions_key_system_key_value"),
        sa.UniqueConstraint("amo_response_id", name="uq_submissions_amo_response_id"),
        sa.UniqueConstraint("amc_response_id", name="uq_submissions_amc_response_id"),
    )
    for column in ("patient_nir", "provider_finess", "provider_siret", "amo_organisme", "amc_number"):
        op.create_index(f"ix_submissions_{column}", "submissions", [column])
    op.create_index("ix_submissions_client_id", "submissions", ["client_id"])
    op.create_index("ix_submissions_received_at", "submissions", ["received_at"])
    op.create_index(
        "ix_submissions_claim_identifier",
        "submissions",
        ["claim_identifier_system", "claim_identifier_value"],
    )

    op.create_table(
        "delivery_records",
        _serial(),
        sa.Column("nir", sa.String(15), nullable=False),
        sa.Column("code", sa.String(7), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(), nullable=False),
        sa.Column("submission", sa.Text(), nullable=False),
        sa.Column("prescription", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_records"),
    )
    op.create_index("ix_delivery_records_nir", "delivery_records", ["nir"])
    op.create_index("ix_delivery_records_submission", "delivery_records", ["submission"])

    op.create_table(
        "ledger_entries",
        _serial(),
        sa.Column("nir", sa.String(15), nullable=False),
        sa.Column("contract_id", sa.String(), nullable=False),
        sa.Column("guarantee_id", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("consumed_cents", sa.BigInteger(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("submission", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_entries"),
    )
    op.create_index("ix_ledger_entries_nir", "ledger_entries", ["nir"])
    op.create_index("ix_ledger_entries_submission", "ledger_entries", ["submission"])

    op.create_table(
        "audit_log",
        _serial(),
        _utc("at"),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(255), nullable=False),
        sa.Column("submission_id", sa.String(36), nullable=True),
        sa.Column("request_id", sa.String(128), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_submission_id", "audit_log", ["submission_id"])

    op.create_table(
        "outbox",
        _serial(),
        sa.Column("topic", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _utc("created_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(255), nullable=True),
        _utc("claimed_until", nullable=True),
        _utc("completed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_completed_at", "outbox", ["completed_at"])


def downgrade() -> None:
    for table in ("outbox", "audit_log", "ledger_entries", "delivery_records", "submissions"):
        op.drop_table(table)
