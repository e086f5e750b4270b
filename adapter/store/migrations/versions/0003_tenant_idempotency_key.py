"""The idempotency key belongs to the submitting tenant: unique on (client_id, key_system, key_value).

Revision ID: 0003
Revises: 0002

Before, one Bundle.identifier could be stored once for all tenants: a tenant that used another
tenant's identifier first took it from them (their submit then answered 409), and a tenant
that reused an identifier learnt that someone had used it. Stored rows keep their ids and keys;
only the constraint changes. A plain index on (key_system, key_value) keeps the searches by
Bundle.identifier across tenants indexed. Downgrading fails if two tenants stored the same key
meanwhile (the old constraint cannot hold): remove one of the rows first.
"""

from __future__ import annotations

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_constraint("uq_submissions_key_system_key_value", type_="unique")
        batch.create_unique_constraint(
            "uq_submissions_client_id_key_system_key_value", ["client_id", "key_system", "key_value"]
        )
        batch.create_index("ix_submissions_key_system_key_value", ["key_system", "key_value"])


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_index("ix_submissions_key_system_key_value")
        batch.drop_constraint("uq_submissions_client_id_key_system_key_value", type_="unique")
        batch.create_unique_constraint("uq_submissions_key_system_key_value", ["key_system", "key_value"])
