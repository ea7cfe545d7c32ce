"""The feedback read model's tables: the publishers' signals with their status, and the feed's
items, one per (event, receiving organisation).

Rows are found by the household's lookup digest (retention deletes them by it) and a signal by
its lookup digest; the signal's id and type, which only its publisher should read back, are
sealed under the household's row key (services/casework/sealing.py). An item names its signals
by digest only and is opened through their rows when read: an erased household's items name
nobody and are left out. What the feed filters and orders on (the receiving organisation, the
cursor, the status, dates, the police's decision and conclusion) names nobody and stays plain.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, DateTime, MetaData, String, Table

from services.casework.sealing import SealedTable, sealed_column

metadata = MetaData()

signals = Table(
    "radar_feedback_signals",
    metadata,
    Column("signal", String(64), primary_key=True),  # the signal's lookup digest
    Column("household", String(64), nullable=False, index=True),  # lookup digest
    Column("organisation", String(64), nullable=False, index=True),  # the publisher
    Column("sector", String(32), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("standing", Boolean, nullable=False),  # still counts: not retracted, not unfounded
    Column("status", String(24), nullable=False),  # radar.feedback.ReporterStatus
    Column("status_on", Date, nullable=False),  # the Dutch date of the status
    Column("answered_by", String(64)),  # the lookup digest of the assessment that answered it
    Column("decision", String(32)),  # the instrument's decision (shown to the police only)
    Column("conclusion", String(16)),  # the investigation's (shown to the police only)
    sealed_column(),  # household, signal_id, signal_type
)

SIGNALS = SealedTable(
    signals,
    ("signal",),
    "signal_id signal_type household organisation sector received_at standing status "
    "status_on decision conclusion",
    ("organisation", "received_at", "signal_id"),
)

items = Table(
    "radar_feedback_items",
    metadata,
    Column("cursor", BigInteger, primary_key=True, autoincrement=False),
    Column("recipient", String(64), nullable=False, index=True),  # the receiving organisation
    Column("household", String(64), nullable=False, index=True),  # lookup digest
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("status", String(24), nullable=False),
    Column("signals", JSON, nullable=False),  # the lookup digests of the signals it is about
    Column("details", JSON, nullable=False),  # on, within_norm, final, decision, conclusion
)
