"""The referral read model (issue 17): `radar_referrals`, one row per referral of a suspected
offence to the OM or the police, and `radar_referral_items`, the feed of them the recipients
read. New tables only: a read model, filled by the projector from the event store.

Revision ID: 0006_referral
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_referral"
down_revision = "0005"
branch_labels = None
depends_on = None

REFERRALS = "radar_referrals"
ITEMS = "radar_referral_items"


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if not inspector.has_table(REFERRALS):
        op.create_table(
            REFERRALS,
            sa.Column("referral", sa.String(length=64), nullable=False),
            sa.Column("household", sa.String(length=64), nullable=False),
            sa.Column("recipient", sa.String(length=64), nullable=False),
            sa.Column("referred_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("decision_cursor", sa.BigInteger(), nullable=True),
            sa.Column("sealed", sa.LargeBinary(), nullable=True),
            sa.PrimaryKeyConstraint("referral"),
        )
        for column in ("household", "recipient"):
            op.create_index(f"ix_{REFERRALS}_{column}", REFERRALS, [column])
    if not inspector.has_table(ITEMS):
        op.create_table(
            ITEMS,
            sa.Column("cursor", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("recipient", sa.String(length=64), nullable=False),
            sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("household", sa.String(length=64), nullable=False),
            sa.Column("sealed", sa.LargeBinary(), nullable=True),
            sa.PrimaryKeyConstraint("cursor"),
        )
        for column in ("recipient", "household"):
            op.create_index(f"ix_{ITEMS}_{column}", ITEMS, [column])


def downgrade() -> None:
    op.drop_table(ITEMS)  # a read model: rebuilt from the event store
    op.drop_table(REFERRALS)
