"""The feedback read model (issue 17, terugmelding): `radar_feedback_signals`, each
publisher's signals with their status, and `radar_feedback_items`, the signal-status feed. New
tables only: a read model, filled by the projector from the event store.

Revision ID: 0006_feedback
Revises: 0006_findings
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_feedback"
down_revision = "0006_findings"  # chained after the findings slice merged in (issue 17)
branch_labels = None
depends_on = None

SIGNALS = "radar_feedback_signals"
ITEMS = "radar_feedback_items"


def upgrade() -> None:
    present = sa.inspect(op.get_bind())
    if not present.has_table(SIGNALS):
        op.create_table(
            SIGNALS,
            sa.Column("signal", sa.String(length=64), nullable=False),
            sa.Column("household", sa.String(length=64), nullable=False),
            sa.Column("organisation", sa.String(length=64), nullable=False),
            sa.Column("sector", sa.String(length=32), nullable=False),
            sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("standing", sa.Boolean(), nullable=False),
            sa.Column("status", sa.String(length=24), nullable=False),
            sa.Column("status_on", sa.Date(), nullable=False),
            sa.Column("answered_by", sa.String(length=64), nullable=True),
            sa.Column("decision", sa.String(length=32), nullable=True),
            sa.Column("conclusion", sa.String(length=16), nullable=True),
            sa.Column("sealed", sa.LargeBinary(), nullable=True),
            sa.PrimaryKeyConstraint("signal"),
        )
        for column in ("household", "organisation"):
            op.create_index(f"ix_{SIGNALS}_{column}", SIGNALS, [column])
    if not present.has_table(ITEMS):
        op.create_table(
            ITEMS,
            sa.Column("cursor", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("recipient", sa.String(length=64), nullable=False),
            sa.Column("household", sa.String(length=64), nullable=False),
            sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("status", sa.String(length=24), nullable=False),
            sa.Column("signals", sa.JSON(), nullable=False),
            sa.Column("details", sa.JSON(), nullable=False),
            sa.PrimaryKeyConstraint("cursor"),
        )
        for column in ("recipient", "household"):
            op.create_index(f"ix_{ITEMS}_{column}", ITEMS, [column])


def downgrade() -> None:
    op.drop_table(ITEMS)  # a read model: rebuilt from the event store
    op.drop_table(SIGNALS)
