"""audit_lineage: a restore begins a new audit epoch (issue 21). The restored store gets a new
store id, and this table names its parent store, the backup's position (last notification,
record count, newest checkpoint) and when it was restored; the new store's first checkpoint
signs it. `radar backup restore` of a backup at an older revision records the restore before
the upgrade (making this table as below), so the table may be there already: then it is left
as it is.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLE = "audit_lineage"


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table(TABLE):
        return
    op.create_table(
        TABLE,
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("parent_store_id", sa.String(length=36), nullable=False),
        sa.Column("parent_notification_id", sa.BigInteger(), nullable=False),
        sa.Column("parent_records", sa.BigInteger(), nullable=False),
        sa.Column("parent_checkpoint_seq", sa.BigInteger(), nullable=False),
        sa.Column("restored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("store_id"),
    )


def downgrade() -> None:
    # The lineage is part of the audit record: a downgrade drops it only with the restores it
    # names forgotten (verify then reports the lost radar's later checkpoints as truncated).
    op.drop_table(TABLE)
