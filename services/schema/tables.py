"""Every table the radar owns, in one place: what the migrations must produce and what the
schema check compares against. The event store's tables (stored_events, snapshots, tracking)
are the eventsourcing library's and are made by it.

Each table is either migrated in place (its rows are the record: keys, the vault, receipts,
the access log, restrictions, revocations, checkpoints, the audit chain, retention's erasure
records) or a read model that is rebuilt from the event store instead (its format row in
`projection_formats` says which format its rows are in; a migration that changes one may empty
it and drop its format row)."""

from __future__ import annotations

from sqlalchemy import MetaData, Table

from privacy.storage import (
    access_log,
    access_log_sealing,
    erasure_records,
    restrictions,
    revocations,
    sealed_rows,
    vault_rows,
)
from services.audit import checkpoints, lineage, sealing
from services.backup import key_check
from services.casework import lead_time_store, monitoring_store, worklist_tables
from services.delivery import tables as delivery_tables
from services.feedback import tables as feedback_tables
from services.handle_with_care import tables as hwc_tables
from services.ledger import store as ledger_store
from services.projections import checkpoints as projection_checkpoints
from services.projections import positions
from services.referrals import store as referral_store
from services.signals import receipt_format
from services.timelines import tables as timeline_tables

_METADATA: tuple[MetaData, ...] = (
    vault_rows.metadata,
    sealed_rows.key_metadata,
    restrictions.metadata,
    revocations.metadata,
    access_log_sealing.period_key_metadata,
    access_log.metadata,
    sealing.metadata,
    checkpoints.metadata,
    lineage.metadata,
    positions.metadata,
    projection_checkpoints.metadata,
    ledger_store.key_metadata,
    erasure_records.metadata,
    receipt_format.metadata,
    key_check.metadata,
    timeline_tables.metadata,
    timeline_tables.checkpoint_metadata,
    worklist_tables.metadata,
    monitoring_store.metadata,
    lead_time_store.metadata,
    delivery_tables.metadata,
    referral_store.metadata,
    hwc_tables.metadata,
    feedback_tables.metadata,
)

# Read models: derived from the event store, rebuilt rather than migrated (see above).
REBUILT_READ_MODELS: frozenset[str] = frozenset(
    {
        *timeline_tables.metadata.tables,
        *timeline_tables.checkpoint_metadata.tables,  # copies of them (checkpoints.py)
        *worklist_tables.metadata.tables,
        *monitoring_store.metadata.tables,
        *lead_time_store.metadata.tables,
        *referral_store.metadata.tables,
        *hwc_tables.metadata.tables,
        *feedback_tables.metadata.tables,
    }
)


def project_metadata() -> MetaData:
    """One MetaData holding a copy of every table the radar owns (the modules keep their own,
    several of which share a table, such as the access log the audit sealer signs)."""
    merged = MetaData()
    for metadata in _METADATA:
        for table in metadata.sorted_tables:
            if table.name not in merged.tables:
                table.to_metadata(merged)
    return merged


def project_table_names() -> frozenset[str]:
    return frozenset(project_metadata().tables)


def tables_of(names: frozenset[str]) -> list[Table]:
    """The registry's tables with these names, in dependency order."""
    return [t for t in project_metadata().sorted_tables if t.name in names]
