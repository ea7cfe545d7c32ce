"""Webhooks (issue 17): `radar_webhooks`, an organisation's registration for one feed kind with
its delivery state (the acknowledged cursor, the current item's attempts and next attempt), and
`radar_webhook_dead_letters`, the items given up on (which item, never its body). New tables
only; records, migrated in place (services/delivery/tables.py).

Revision ID: 0006_delivery
Revises: 0006_feedback
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_delivery"
down_revision = "0006_feedback"  # chained after the feedback slice merged in (issue 17)
branch_labels = None
depends_on = None

WEBHOOKS = "radar_webhooks"
DEAD_LETTERS = "radar_webhook_dead_letters"


def upgrade() -> None:
    present = sa.inspect(op.get_bind())
    if not present.has_table(WEBHOOKS):
        op.create_table(
            WEBHOOKS,
            sa.Column("id", sa.String(length=36), nullable=False),
            sa.Column("organisation", sa.String(length=64), nullable=False),
            sa.Column("kind", sa.String(length=64), nullable=False),
            sa.Column("url", sa.String(length=2048), nullable=False),
            sa.Column("signing", sa.String(length=16), nullable=False),
            sa.Column("secret_kek", sa.String(length=32), nullable=True),
            sa.Column("secret", sa.LargeBinary(), nullable=True),
            sa.Column("role", sa.String(length=32), nullable=False),
            sa.Column("region", sa.String(length=8), nullable=False),
            sa.Column("purpose", sa.String(length=64), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("delivered", sa.BigInteger(), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("last_status", sa.String(length=64), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(f"ix_{WEBHOOKS}_organisation", WEBHOOKS, ["organisation"])
    if not present.has_table(DEAD_LETTERS):
        op.create_table(
            DEAD_LETTERS,
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("webhook", sa.String(length=36), nullable=False),
            sa.Column("kind", sa.String(length=64), nullable=False),
            sa.Column("cursor", sa.BigInteger(), nullable=False),
            sa.Column("item", sa.String(length=36), nullable=False),
            sa.Column("attempts", sa.Integer(), nullable=False),
            sa.Column("last_status", sa.String(length=64), nullable=True),
            sa.Column("dead_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("replay_requested_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True),
            sa.ForeignKeyConstraint(["webhook"], [f"{WEBHOOKS}.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(f"ix_{DEAD_LETTERS}_webhook", DEAD_LETTERS, ["webhook"])


def downgrade() -> None:
    op.drop_table(DEAD_LETTERS)
    op.drop_table(WEBHOOKS)
