"""The Handle with Care read model (issue 17): `radar_hwc_pupils` (which school published about
which child) and `radar_hwc_notices` (each notice, its receiver, school day, deadline,
acknowledgement and feed cursor). New tables only: a read model, filled by the projector.

Revision ID: 0006_hwc
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_hwc"
down_revision = "0006_referral"
branch_labels = None
depends_on = None

PUPILS = "radar_hwc_pupils"
NOTICES = "radar_hwc_notices"


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(PUPILS):
        op.create_table(
            PUPILS,
            sa.Column("child", sa.String(length=64), nullable=False),
            sa.Column("household", sa.String(length=64), nullable=False),
            sa.Column("school", sa.String(length=64), nullable=False),
            sa.Column("signal", sa.String(length=64), nullable=False),
            sa.Column("sealed", sa.LargeBinary(), nullable=True),
            sa.PrimaryKeyConstraint("child"),
        )
        for column in ("household", "signal"):
            op.create_index(f"ix_{PUPILS}_{column}", PUPILS, [column])
    if not inspector.has_table(NOTICES):
        op.create_table(
            NOTICES,
            sa.Column("notice", sa.String(length=36), nullable=False),
            sa.Column("household", sa.String(length=64), nullable=False),
            sa.Column("region", sa.String(length=8), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("recipient", sa.String(length=64), nullable=True),
            sa.Column("recipient_kind", sa.String(length=32), nullable=True),
            sa.Column("school_day", sa.Date(), nullable=True),
            sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
            sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("reminder_alert", sa.String(length=36), nullable=True),
            sa.Column("cursor", sa.BigInteger(), nullable=True),
            sa.Column("sealed", sa.LargeBinary(), nullable=True),
            sa.PrimaryKeyConstraint("notice"),
        )
        for column in ("household", "region", "recipient"):
            op.create_index(f"ix_{NOTICES}_{column}", NOTICES, [column])


def downgrade() -> None:
    op.drop_table(NOTICES)  # a read model: rebuilt from the event store
    op.drop_table(PUPILS)
