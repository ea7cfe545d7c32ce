"""Read-model checkpoints (issue 15). `projection_checkpoints` records, per read
model, the position, format, row count and keyed digest of its checkpoint; the timeline's
checkpoint copies its two tables as stored (`timeline_signals_checkpoint`,
`person_memberships_checkpoint`, same columns, no secondary indexes). New tables only: the
existing rows keep their meaning.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("projection_checkpoints", "timeline_signals_checkpoint", "person_memberships_checkpoint")


def upgrade() -> None:
    present = sa.inspect(op.get_bind())
    metadata = sa.MetaData()
    _tables(metadata)
    for name in TABLES:
        if not present.has_table(name):
            metadata.tables[name].create(op.get_bind())


def downgrade() -> None:
    # derived copies and their bookkeeping: a full rebuild makes the read models without them
    for name in reversed(TABLES):
        op.drop_table(name)


def _tables(metadata: sa.MetaData) -> None:
    sa.Table(
        "projection_checkpoints",
        metadata,
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    sa.Table(
        "timeline_signals_checkpoint",
        metadata,
        sa.Column("household", sa.String(length=64), nullable=False),
        sa.Column("signal_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column("sector", sa.String(length=32), nullable=False),
        sa.Column("signal_type", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("corrected", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("household", "signal_id"),
    )
    sa.Table(
        "person_memberships_checkpoint",
        metadata,
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("household", sa.String(length=64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("person", "household"),
    )
