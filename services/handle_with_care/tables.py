"""The Handle with Care read model's tables (made by migration 0006_hwc).

`radar_hwc_pupils`: for each child some school published a signal about, the school (the
publishing organisation of the latest education signal naming the child) and, sealed, that
signal's id and the child's place among its persons: how the school finds its pupil in its own
records without the radar sending anything new. `radar_hwc_notices`: one row per notice, its
status, receiver, school day, deadline and acknowledgement, and, once confirmed, its feed
cursor. Rows are found by lookup digests; pseudonyms and signal ids are sealed per household
(services/casework/sealing.py), so erasing a household leaves its rows naming nobody.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, DateTime, MetaData, String, Table

from services.casework.sealing import SealedTable, sealed_column

metadata = MetaData()

pupils = Table(
    "radar_hwc_pupils",
    metadata,
    Column("child", String(64), primary_key=True),  # the child's lookup digest
    Column("household", String(64), nullable=False, index=True),  # lookup digest
    Column("school", String(64), nullable=False),  # the school's organisation id
    Column("signal", String(64), nullable=False, index=True),  # its signal's lookup digest
    sealed_column(),  # signal_id, person
)

notices = Table(
    "radar_hwc_notices",
    metadata,
    Column("notice", String(36), primary_key=True),  # the notice id (names nobody)
    Column("household", String(64), nullable=False, index=True),  # lookup digest
    Column("region", String(8), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recipient", String(64), index=True),  # organisation id, once confirmed
    Column("recipient_kind", String(32)),  # school | compulsory_education
    Column("school_day", Date),
    Column("deadline", DateTime(timezone=True)),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("reminder_alert", String(36)),
    Column("cursor", BigInteger),  # the feed item's cursor, once confirmed
    sealed_column(),  # household, child, reference (what tells the receiver which child)
)

PUPILS = SealedTable(
    pupils, ("child",), "child household school signal signal_id person", ("school",)
)
NOTICES = SealedTable(
    notices,
    ("notice",),
    "notice household child region status occurred_at recipient recipient_kind school_day "
    "deadline confirmed_at acknowledged_at reminder_alert cursor reference",
    ("notice",),
)
