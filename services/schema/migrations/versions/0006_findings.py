"""VT's findings in the timeline (issue 17): `timeline_signals.unfounded` (and its checkpoint
copy's), true for a signal Veilig Thuis found unfounded, which stays on the timeline, marked. A
new nullable column only: a row from before reads as not found unfounded, as it was.

Revision ID: 0006_findings
Revises: 0006_referral
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_findings"
down_revision = "0006_hwc"
branch_labels = None
depends_on = None

TABLES = ("timeline_signals", "timeline_signals_checkpoint")
COLUMN = "unfounded"


def upgrade() -> None:
    present = sa.inspect(op.get_bind())
    for table in TABLES:
        if not present.has_table(table):
            continue
        if COLUMN in {c["name"] for c in present.get_columns(table)}:
            continue
        op.add_column(table, sa.Column(COLUMN, sa.Boolean(), nullable=True))


def downgrade() -> None:
    # a read model's column: a full rebuild makes the rows again without it
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column(COLUMN)
