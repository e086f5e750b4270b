"""The ear of a per-ear device on delivery records and ledger entries.

Revision ID: 0006
Revises: 0005

Hearing aids are renewed per ear: the AMO's delivery history and the AMC's ledger keep the
ear a device was fitted to (``left`` or ``right``), when the claim named it. Rows stored
before have no ear (NULL), which the rules count over both ears, as they did.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | tuple[str, ...] | None = None
depends_on: str | tuple[str, ...] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery_records") as batch:
        batch.add_column(sa.Column("ear", sa.String(8), nullable=True))
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("ear", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("ear")
    with op.batch_alter_table("delivery_records") as batch:
        batch.drop_column("ear")
