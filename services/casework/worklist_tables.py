"""The worklist read model's tables (format 2): which columns stay plain for queries and which
are sealed under the household's row key (services/casework/sealing.py)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Integer, MetaData, String, Table

from services.casework.sealing import SealedTable, sealed_column

metadata = MetaData()

household_scores = Table(
    "radar_household_scores",
    metadata,
    Column("household", String(64), primary_key=True),  # the household's lookup digest
    Column("region", String(8), index=True),
    Column("score", String(24)),
    Column("as_of", DateTime(timezone=True)),
    Column("model_version", Integer),
    Column("children_present", Boolean),
    sealed_column(),  # household, contributions (signal ids), child_scores (by child)
)
# The rows as they read (their columns before sealing: the answers keep their shape).
SCORE_COLUMNS = (
    "household region score as_of model_version contributions children_present child_scores"
)

alerts = Table(
    "radar_alerts",
    metadata,
    Column("alert_id", String(36), primary_key=True),
    Column("household", String(64), nullable=False, index=True),  # lookup digest
    Column("region", String(8), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("reasons", JSON, nullable=False),  # alert kinds
    Column("status", String(16), nullable=False, index=True),
    Column("raised_at", DateTime(timezone=True), nullable=False),
    Column("score_at_raise", String(24), nullable=False),
    Column("model_version_at_raise", Integer, nullable=False),
    Column("children_present", Boolean, nullable=False),
    Column("sectors", JSON, nullable=False),
    Column("plan_id", String(36)),
    Column("check_date", String(10)),
    Column("steps", JSON, nullable=False),  # status, staff, time, outcome and reason
    sealed_column(),  # household, explanation_at_raise and trigger_signals (signal ids)
)
ALERT_COLUMNS = (
    "alert_id household region kind reasons status raised_at score_at_raise "
    "model_version_at_raise explanation_at_raise children_present sectors trigger_signals "
    "plan_id check_date steps"
)

model_versions = Table(
    "radar_model_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("fingerprint", String(64), nullable=False),
    Column("content", JSON, nullable=False),
    Column("adopted_at", DateTime(timezone=True), nullable=False),
    Column("adopted_by", JSON),
    Column("reason", String(2000), nullable=False),
)

SCORES = SealedTable(household_scores, (), SCORE_COLUMNS, ("household",))
ALERTS = SealedTable(alerts, ("alert_id",), ALERT_COLUMNS, ("alert_id",))
