"""Retention's erasure records: `retention_erasures`, per aggregate erased from the event
store the last version the erasure took (so that no read model writes those events back), and
while an erasure is unfinished the household's pseudonym wrapped by the KEK (so that a run cut
short is finished by the next). A new table only; records, migrated in place
(privacy/storage/erasure_records.py).

Revision ID: 0007_retention_erasures
Revises: 0006_delivery
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_retention_erasures"
down_revision = "0006_delivery"
branch_labels = None
depends_on = None

TABLE = "retention_erasures"


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table(TABLE):
        return
    op.create_table(
        TABLE,
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("through_version", sa.BigInteger(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kek_id", sa.String(length=64), nullable=True),
        sa.Column("wrapped_household", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("subject"),
    )


def downgrade() -> None:
    op.drop_table(TABLE)
