"""The referral read model: every referral of a suspected offence, to whom it is addressed and
whether the OM decided, and the feed of them (`GET /v1/feeds/referrals`) the OM and police read.

Two tables, rebuilt from the event store like every read model. `radar_referrals` holds one
row per referral (radar.case_referral.ReferralRecorded): found by the referral's lookup digest,
the household by its digest, the recipient organisation, the dates plain (they name nobody);
the household pseudonym, the referred persons, the supporting signals and the VT contact sealed
under the household's row key (services/casework/sealing.py), so erasing the household leaves
the rows naming nobody. `radar_referral_items` is the feed (the outbox): an item per referral
and per decision, its cursor the causing event's (services/feeds/items.py), its body sealed
the same way, written in the transaction that moves the position past its event.

The OM's decision is a signal of type `prosecution_decision` (contract v2) published by the
organisation a referral was addressed to, about the referred household. Its `prosecution` says
the outcome (prosecution, dismissal, punishment order) and the referral it decides; it decides
that referral when the referral is addressed to the publishing organisation, is about this
household and is not decided yet. A decision that names no referral decides the household's
oldest undecided referral to that organisation (a publisher not yet sending the id); one naming
another organisation's referral, or nothing open, causes no item.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

from contracts.signal_types_v2 import SignalTypeV2
from privacy.purposes import Resource
from radar.case_referral import ReferralRecorded
from radar.household import Household
from radar.safety import dutch_date
from services.casework.sealing import SealedReadModel, SealedTable, sealed_column
from services.database import stored_utc
from services.feeds.items import FeedItem, item_cursor
from services.projections.positions import moving_position, reset_position

REFERRAL_PROJECTION = "radar_referrals"
FEED_KIND = "referrals"
DECISION_TYPE = str(SignalTypeV2.PROSECUTION_DECISION)
REFERRED, DECIDED = "referred", "decided"
"""The two items a referral causes: it was referred; the OM decided (its decision signal)."""

metadata = MetaData()

referrals = Table(
    "radar_referrals",
    metadata,
    Column("referral", String(64), primary_key=True),  # the referral id's lookup digest
    Column("household", String(64), nullable=False, index=True),  # lookup digest
    Column("recipient", String(64), nullable=False, index=True),  # the OM office / police unit
    Column("referred_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),  # the decision signal's occurred_at
    Column("decision_cursor", BigInteger),  # the decided item's cursor
    sealed_column(),  # household, referral_id, persons, signals, contact
)

items = Table(
    "radar_referral_items",
    metadata,
    Column("cursor", BigInteger, primary_key=True, autoincrement=False),
    Column("recipient", String(64), nullable=False, index=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("household", String(64), nullable=False, index=True),  # lookup digest
    sealed_column(),  # body
)

REFERRALS = SealedTable(
    referrals,
    ("referral",),
    "referral_id household recipient persons signals contact referred_at decided_at",
    ("referred_at", "referral_id"),
)
ITEMS = SealedTable(items, ("cursor",), "cursor recipient occurred_at body", ("cursor",))

BODY_FIELDS = frozenset(
    {
        "referral_id",
        "state",
        "household",
        "persons",
        "signals",
        "contact",
        "referred_at",
        "decision",
        "outcome",
        "decided_on",
    }
)
"""What a referral item may carry: the referral's own fields and, once decided, the decision
signal's type, the OM's outcome and the date. Never a signal id, sector, organisation of a
signal, reporter or score."""

_ASSESSED = get_topic(ReferralRecorded)
_RECORDED = get_topic(Household.SignalRecorded)


class ReferralStore(SealedReadModel):
    """Reads and writes the referral tables (a ReadModel, and the referrals FeedSource)."""

    name = REFERRAL_PROJECTION
    topics: tuple[str, ...] = (_ASSESSED, _RECORDED)
    tables = metadata
    format = 1
    kind = FEED_KIND
    resource = Resource.REFERRALS
    fields = BODY_FIELDS

    def stored_households(self, households: Sequence[str]) -> list[str]:
        """By digest: this model's rows named households so from its first format on."""
        return self.digests.households(households)

    def reset(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(items))
            connection.execute(delete(referrals))
            reset_position(connection, self.name)

    # --- queries ----------------------------------------------------------------------------

    def items_after(self, recipient: str, after: int, limit: int) -> Sequence[FeedItem]:
        """The recipient's items after the cursor, in cursor order (erased households' items
        no longer open and are left out)."""
        query = (
            select(items)
            .where(items.c.recipient == recipient, items.c.cursor > after)
            .order_by(items.c.cursor)
            .limit(limit)
        )
        with self.engine.connect() as connection:
            raws = [row._mapping for row in connection.execute(query)]
        self.rows.prefetch(raw["household"] for raw in raws)
        opened = (self.rows.open_row(ITEMS, raw) for raw in raws)
        return [
            FeedItem(
                r["cursor"], FEED_KIND, r["recipient"], stored_utc(r["occurred_at"]), r["body"]
            )
            for r in opened
            if r is not None
        ]

    def addressed_to(self, recipient: str) -> list[dict[str, Any]]:
        """The referrals addressed to this organisation, newest first, as they read."""
        query = select(referrals).where(referrals.c.recipient == recipient)
        with self.engine.connect() as connection:
            raws = [row._mapping for row in connection.execute(query)]
        self.rows.prefetch(raw["household"] for raw in raws)
        opened = [r for r in (self.rows.open_row(REFERRALS, raw) for raw in raws) if r]
        return sorted(opened, key=lambda r: (r["referred_at"], r["referral_id"]), reverse=True)

    def referred_persons(self, household: str, recipient: str) -> frozenset[str]:
        """The persons of this household in the referrals addressed to `recipient`: whom its
        purpose may re-identify (none when it has no referral about the household)."""
        query = select(referrals).where(
            referrals.c.household == self.rows.household(household),
            referrals.c.recipient == recipient,
        )
        with self.engine.connect() as connection:
            raws = [row._mapping for row in connection.execute(query)]
        opened = [r for r in (self.rows.open_row(REFERRALS, raw) for raw in raws) if r]
        return frozenset(p["pseudonym"] for r in opened for p in r["persons"])

    def rows_about(self, households: Sequence[str] | None) -> dict[str, list[dict[str, Any]]]:
        """The rows about these households (all for None), as they read: for an audit."""
        with self.engine.connect() as connection:
            return {
                referrals.name: self.rows.read(connection, REFERRALS, households),
                items.name: self.rows.read(connection, ITEMS, households),
            }

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row as it reads: for comparing with a rebuild."""
        found = self.rows_about(None)
        return {
            "referrals": [
                {**r, "referred_at": stored_utc(r["referred_at"]).isoformat()}
                | {"decided_at": r["decided_at"] and stored_utc(r["decided_at"]).isoformat()}
                for r in found[referrals.name]
            ],
            "items": [
                {**r, "occurred_at": stored_utc(r["occurred_at"]).isoformat()}
                for r in found[items.name]
            ],
        }

    # --- applying events --------------------------------------------------------------------

    def apply_events(
        self, events: Sequence[tuple[int, Any]], expected: int, new_position: int
    ) -> None:
        """As SealedReadModel's, but each event with its notification id: the item cursor."""
        with moving_position(self.engine, self.name, expected, new_position, events) as connection:
            for position, event in events:
                if isinstance(event, ReferralRecorded):
                    self._referred(connection, position, event)
                elif (
                    isinstance(event, Household.SignalRecorded)
                    and event.signal_type == DECISION_TYPE
                ):
                    self._decided(connection, position, event)

    def _referred(self, connection: Connection, position: int, event: ReferralRecorded) -> None:
        digest = self.rows.digests.signal(event.referral_id)
        row = {
            "household": event.household,
            "referral_id": event.referral_id,
            "persons": event.persons,
            "signals": [
                {"signal_type": s["signal_type"], "occurred_on": s["occurred_on"]}
                for s in event.signals
            ],
            "contact": event.contact,
        }
        connection.execute(
            insert(referrals).values(
                referral=digest,
                household=self.rows.household(event.household),
                recipient=event.recipient,
                referred_at=stored_utc(event.referred_at),
                sealed=self.rows.seal(connection, referrals, event.household, (digest,), row),
            )
        )
        body = {**row, "state": REFERRED, "referred_at": stored_utc(event.referred_at).isoformat()}
        self._item(connection, item_cursor(position), event.recipient, event.timestamp, body)

    def _decided(
        self, connection: Connection, position: int, event: Household.SignalRecorded
    ) -> None:
        """The decision signal decides the referral it names (else the household's oldest
        undecided one to its publishing organisation); a decision about no open referral of
        that organisation causes no item."""
        said = event.prosecution or {}
        open_ones = select(referrals).where(
            referrals.c.household == self.rows.household(event.household),
            referrals.c.recipient == event.organisation,
            referrals.c.decided_at.is_(None),
        )
        if said.get("referral_id"):
            digest = self.rows.digests.signal(str(said["referral_id"]))
            open_ones = open_ones.where(referrals.c.referral == digest)
        query = open_ones.order_by(referrals.c.referred_at, referrals.c.referral).limit(1)
        raw = connection.execute(query).first()
        if raw is None:
            return
        opened = self.rows.open_row(REFERRALS, raw._mapping)
        if opened is None:
            return
        cursor = item_cursor(position)
        connection.execute(
            update(referrals)
            .where(referrals.c.referral == raw.referral)
            .values(decided_at=stored_utc(event.occurred_at), decision_cursor=cursor)
        )
        body = {
            "household": event.household,
            "referral_id": opened["referral_id"],
            "state": DECIDED,
            "decision": DECISION_TYPE,
            "outcome": said.get("outcome"),
            "decided_on": dutch_date(event.occurred_at).isoformat(),
        }
        self._item(connection, cursor, event.organisation, event.timestamp, body)

    def _item(
        self,
        connection: Connection,
        cursor: int,
        recipient: str,
        at: datetime,
        body: dict[str, Any],
    ) -> None:
        household = body["household"]
        connection.execute(
            insert(items).values(
                cursor=cursor,
                recipient=recipient,
                occurred_at=stored_utc(at),
                household=self.rows.household(household),
                sealed=self.rows.seal(connection, items, household, (str(cursor),), {"body": body}),
            )
        )
