"""The radar's tables as the release of stop 14 (commit e4fd62e) made them, the first revision.

A database made before the radar's schema had versions is adopted: its missing tables are
created and columns and indexes added since are added; nothing is dropped (see
services/schema/adoption.py). The definitions below are frozen: later changes are later
revisions, never edits here.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.schema.adoption import adopt

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# The read models (rebuilt from the event store, not migrated): position name -> tables.
READ_MODELS = {
    "household_timeline": ("timeline_signals", "person_memberships"),
    "radar_worklist": ("radar_household_scores", "radar_alerts", "radar_model_versions"),
    "radar_monitoring": ("radar_monitoring_regions", "radar_safety_plans", "radar_safety_checks"),
}


def upgrade() -> None:
    metadata = sa.MetaData()
    _tables(metadata)
    adopt(op.get_bind(), metadata, READ_MODELS)


def downgrade() -> None:
    raise NotImplementedError(
        "the first revision holds the record (vault, receipts, access log, keys): it is not "
        "dropped by a downgrade; restore the backup taken before the upgrade instead"
    )


def _index(
    metadata: sa.MetaData, name: str, table: str, columns: list[str], *, unique: bool
) -> None:
    sa.Index(name, *(metadata.tables[table].c[column] for column in columns), unique=unique)


def _subject_keys(metadata: sa.MetaData, name: str) -> None:
    """One store's wrapped data keys (four stores keep them alike)."""
    sa.Table(
        name,
        metadata,
        sa.Column("subject", sa.String(length=36), nullable=False),
        sa.Column("kek_id", sa.String(length=32), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("subject"),
    )


def _tables(metadata: sa.MetaData) -> None:
    sa.Table(
        "access_log",
        metadata,
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("subject_digest", sa.String(length=32), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("prev_hash"),
    )
    _subject_keys(metadata, "access_log_period_keys")
    sa.Table(
        "access_notices",
        metadata,
        sa.Column("access_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("household", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("accessor_organisation", sa.String(length=64), nullable=False),
        sa.Column("accessor_region", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("sealed_household", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("access_seq"),
    )
    sa.Table(
        "audit_checkpoints",
        metadata,
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("notification_id", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("previous", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("previous"),
    )
    sa.Table(
        "audit_event_chain",
        metadata,
        sa.Column("notification_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        sa.Column("originator_id", sa.String(length=36), nullable=False),
        sa.Column("originator_version", sa.BigInteger(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("notification_id"),
    )
    sa.Table(
        "audit_store",
        metadata,
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("store_id"),
    )
    _subject_keys(metadata, "event_subject_keys")
    sa.Table(
        "ingest_correction_receipts",
        metadata,
        sa.Column("correction_id", sa.String(length=36), nullable=False),
        sa.Column("corrects", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("correction_id"),
    )
    sa.Table(
        "ingest_receipt_formats",
        metadata,
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    sa.Table(
        "ingest_receipts",
        metadata,
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("household", sa.String(length=64), nullable=True),
        sa.Column("sealed_household", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("event_id"),
    )
    sa.Table(
        "person_memberships",
        metadata,
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("household", sa.String(length=64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("person", "household"),
    )
    sa.Table(
        "processing_restrictions",
        metadata,
        sa.Column("restriction_id", sa.String(length=36), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("sealed_subject", sa.LargeBinary(), nullable=True),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(length=64), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_by", sa.String(length=64), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("restriction_id"),
    )
    sa.Table(
        "projection_formats",
        metadata,
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    sa.Table(
        "projection_positions",
        metadata,
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    sa.Table(
        "radar_alerts",
        metadata,
        sa.Column("alert_id", sa.String(length=36), nullable=False),
        sa.Column("household", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score_at_raise", sa.String(length=24), nullable=False),
        sa.Column("model_version_at_raise", sa.Integer(), nullable=False),
        sa.Column("children_present", sa.Boolean(), nullable=False),
        sa.Column("sectors", sa.JSON(), nullable=False),
        sa.Column("plan_id", sa.String(length=36), nullable=True),
        sa.Column("check_date", sa.String(length=10), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    sa.Table(
        "radar_household_scores",
        metadata,
        sa.Column("household", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=True),
        sa.Column("score", sa.String(length=24), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("model_version", sa.Integer(), nullable=True),
        sa.Column("children_present", sa.Boolean(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("household"),
    )
    sa.Table(
        "radar_model_versions",
        metadata,
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("adopted_by", sa.JSON(), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    sa.Table(
        "radar_monitoring_regions",
        metadata,
        sa.Column("household", sa.String(length=64), nullable=False),
        sa.Column("region", sa.String(length=8), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("household"),
    )
    sa.Table(
        "radar_safety_checks",
        metadata,
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("check_date", sa.Date(), nullable=False),
        sa.Column("household", sa.String(length=64), nullable=False),
        sa.Column("assessed", sa.Boolean(), nullable=False),
        sa.Column("conditions_kept", sa.Boolean(), nullable=True),
        sa.Column("reminder_alert", sa.String(length=36), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("plan_id", "check_date"),
    )
    sa.Table(
        "radar_safety_plans",
        metadata,
        sa.Column("plan_id", sa.String(length=36), nullable=False),
        sa.Column("household", sa.String(length=64), nullable=False),
        sa.Column("excluded_signal_types", sa.JSON(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("breaches", sa.JSON(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("safety_achieved", sa.Boolean(), nullable=True),
        sa.Column("closed_by", sa.JSON(), nullable=True),
        sa.Column("closing_note", sa.String(length=2000), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("plan_id"),
    )
    _subject_keys(metadata, "read_model_subject_keys")
    sa.Table(
        "revoked_credentials",
        metadata,
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("jti"),
    )
    sa.Table(
        "timeline_signals",
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
        "vault_formats",
        metadata,
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("format", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    sa.Table(
        "vault_identities",
        metadata,
        sa.Column("pseudonym", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("first_known_as", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("names", sa.LargeBinary(), nullable=True),
        sa.PrimaryKeyConstraint("pseudonym", "subject"),
    )
    _subject_keys(metadata, "vault_subject_keys")
    _index(metadata, "ix_access_log_subject_digest", "access_log", ["subject_digest"], unique=False)
    _index(metadata, "ix_access_notices_region", "access_notices", ["region"], unique=False)
    _index(
        metadata,
        "ix_audit_checkpoints_notification_id",
        "audit_checkpoints",
        ["notification_id"],
        unique=False,
    )
    _index(
        metadata,
        "audit_event_chain_identity",
        "audit_event_chain",
        ["originator_id", "originator_version"],
        unique=True,
    )
    _index(
        metadata,
        "ix_ingest_correction_receipts_corrects",
        "ingest_correction_receipts",
        ["corrects"],
        unique=False,
    )
    _index(
        metadata,
        "ix_person_memberships_household",
        "person_memberships",
        ["household"],
        unique=False,
    )
    _index(
        metadata,
        "ix_processing_restrictions_subject",
        "processing_restrictions",
        ["subject"],
        unique=False,
    )
    _index(metadata, "ix_radar_alerts_household", "radar_alerts", ["household"], unique=False)
    _index(metadata, "ix_radar_alerts_region", "radar_alerts", ["region"], unique=False)
    _index(metadata, "ix_radar_alerts_status", "radar_alerts", ["status"], unique=False)
    _index(
        metadata,
        "ix_radar_household_scores_region",
        "radar_household_scores",
        ["region"],
        unique=False,
    )
    _index(
        metadata,
        "ix_radar_safety_checks_household",
        "radar_safety_checks",
        ["household"],
        unique=False,
    )
    _index(
        metadata,
        "ix_radar_safety_plans_household",
        "radar_safety_plans",
        ["household"],
        unique=False,
    )
    _index(metadata, "ix_timeline_signals_position", "timeline_signals", ["position"], unique=False)
    _index(
        metadata,
        "ix_vault_identities_first_known_as",
        "vault_identities",
        ["first_known_as"],
        unique=False,
    )
    household_only = sa.text("kind = 'household'")
    sa.Index(
        "vault_one_row_per_household",
        metadata.tables["vault_identities"].c.pseudonym,
        unique=True,
        sqlite_where=household_only,
        postgresql_where=household_only,
    )
