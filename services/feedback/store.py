"""The feedback read model: each publisher's signals with their status, and the signal-status
feed (`GET /v1/feeds/signal-status`) made of them, by the rules of radar/feedback.py.

Items are written in the projector's transaction that moves this read model past the event
that caused them (services/feeds/items.py: the store is the outbox), with that event's cursor;
rebuilt from the event store, the feed has the same items, cursors and ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.engine import Connection

from contracts.signal_types_v2 import SignalTypeV2
from privacy.purposes import Resource
from privacy.storage.sealed_rows import RowSealer
from radar import feedback
from radar.case_assessment import InvestigationClosed, SafetyAssessmentRecorded
from radar.feedback import Awaiting, ReporterStatus
from radar.household import Household
from radar.household_findings import SignalFoundUnfounded
from radar.safety import dutch_date
from services.casework.sealing import SealedReadModel
from services.database import stored_utc
from services.feedback.tables import SIGNALS, items, metadata, signals
from services.feeds.items import FeedItem, item_cursor
from services.projections.bulk import PendingInserts
from services.projections.positions import moving_position, reset_position

FEEDBACK_PROJECTION = "radar_feedback"
FEED_KIND = "signal-status"
PROSECUTION_DECISION = str(SignalTypeV2.PROSECUTION_DECISION)
ASSESSMENT = "assessment"  # the lookup-digest kind of an assessment id

Applier = Callable[[Any, PendingInserts, int, Any], None]


class FeedbackStore(SealedReadModel):
    """Reads and writes the feedback tables (a ReadModel and a FeedSource)."""

    name = FEEDBACK_PROJECTION
    tables = metadata
    format = 2  # households and signals by digest, signal ids sealed
    kind = FEED_KIND
    resource = Resource.SIGNAL_FEEDBACK
    fields = feedback.FIELDS | {"signals"}

    def __init__(self, engine: Engine, sealer: RowSealer | None = None) -> None:
        super().__init__(engine, sealer)
        self._appliers: dict[type, Applier] = {
            Household.SignalRecorded: FeedbackStore._recorded,
            Household.SignalCorrected: FeedbackStore._corrected,
            Household.SignalRetracted: FeedbackStore._retracted,
            SafetyAssessmentRecorded: FeedbackStore._decided,
            InvestigationClosed: FeedbackStore._closed,
            SignalFoundUnfounded: FeedbackStore._found_unfounded,
        }
        self.topics: tuple[str, ...] = tuple(get_topic(cls) for cls in self._appliers)

    def reset(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(items))
            connection.execute(delete(signals))
            reset_position(connection, self.name)

    # --- queries ----------------------------------------------------------------------------

    def items_after(self, recipient: str, after: int, limit: int) -> list[FeedItem]:
        """The organisation's items after `after` in cursor order; an erased household's are
        left out (their signals no longer open)."""
        mine = items.c.recipient == recipient
        query = select(items).where(mine, items.c.cursor > after).order_by(items.c.cursor)
        return self._opened_items(recipient, query.limit(limit))

    def newest_items(self, recipient: str, limit: int) -> list[FeedItem]:
        """The organisation's newest items, newest first (its page)."""
        query = select(items).where(items.c.recipient == recipient)
        return self._opened_items(recipient, query.order_by(items.c.cursor.desc()).limit(limit))

    def _opened_items(self, recipient: str, query: Any) -> list[FeedItem]:
        with self.engine.connect() as connection:
            raws = [row._mapping for row in connection.execute(query)]
            opened = self._signal_ids(connection, {d for raw in raws for d in raw["signals"]})
        found = []
        for raw in raws:
            ids = [opened.get(digest) for digest in raw["signals"]]
            if all(ids):
                body = {**raw["details"], "signals": sorted(str(i) for i in ids)}
                when = stored_utc(raw["occurred_at"])
                found.append(FeedItem(raw["cursor"], FEED_KIND, recipient, when, body))
        return found

    def signals_of(self, organisation: str) -> list[dict[str, Any]]:
        """The organisation's own signals as they read, oldest first: "Mijn signalen"."""
        query = select(signals).where(signals.c.organisation == organisation)
        with self.engine.connect() as connection:
            raws = [row._mapping for row in connection.execute(query)]
        self.rows.prefetch(raw["household"] for raw in raws)
        opened = (self.rows.open_row(SIGNALS, raw) for raw in raws)
        rows = [_as_shown(row) for row in opened if row is not None]
        return sorted(rows, key=lambda r: (stored_utc(r["received_at"]), r["signal_id"]))

    def rows_about(self, households: Sequence[str] | None) -> dict[str, list[dict[str, Any]]]:
        """The rows about these households (all for None), as they read: for an audit."""
        query = select(items).order_by(items.c.cursor)
        if households is not None:
            query = query.where(items.c.household.in_(self.rows.digests.households(households)))
        with self.engine.connect() as connection:
            return {
                signals.name: self.rows.read(connection, SIGNALS, households),
                items.name: [dict(row._mapping) for row in connection.execute(query)],
            }

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row as it reads: for comparing with a rebuild."""
        about = self.rows_about(None)
        return {
            "signals": [
                {**r, "received_at": stored_utc(r["received_at"])} for r in about[signals.name]
            ],
            "items": [
                {**r, "occurred_at": stored_utc(r["occurred_at"])} for r in about[items.name]
            ],
        }

    # --- applying events --------------------------------------------------------------------

    def apply_events(
        self, events: Sequence[tuple[int, Any]], expected: int, new_position: int
    ) -> None:
        """As every sealed read model, but each event's notification id reaches its applier:
        it is the cursor of the items the event causes. The rows recorded signals add are
        inserted together (most of a batch is signals recorded)."""
        with moving_position(self.engine, self.name, expected, new_position, events) as connection:
            writes = PendingInserts(connection)
            for position, event in events:
                applier = self._appliers.get(type(event))
                if applier is not None:
                    applier(self, writes, position, event)
            writes.flush()

    def _recorded(self, writes: PendingInserts, position: int, event: Any) -> None:
        if event.signal_type == PROSECUTION_DECISION:
            self._prosecution_decided(writes, position, event)
        if event.sector in feedback.SILENT_SECTORS:
            return
        signal_id = str(event.signal_id)
        digest = self.rows.digests.signal(signal_id)
        sealed = {"household": event.household, "signal_id": signal_id}
        row = {
            "signal": digest,
            "household": self.rows.household(event.household),
            "organisation": event.organisation,
            "sector": event.sector,
            "received_at": stored_utc(event.received_at),
            "standing": True,
            "status": str(ReporterStatus.RECORDED),
            "status_on": dutch_date(event.received_at),
            "sealed": self._seal(
                writes.unflushed, digest, {**sealed, "signal_type": event.signal_type}
            ),
        }
        writes.add(signals, row)
        status, on = ReporterStatus.RECORDED, dutch_date(event.received_at)  # the radar's
        body = feedback.details(status, on, event.sector)
        self._item(writes, position, 0, event, event.organisation, [digest], status, body)

    def _corrected(self, writes: PendingInserts, _position: int, event: Any) -> None:
        """The publisher's own correction: its signal's type as corrected (no item: the
        publisher corrected it itself)."""
        connection = writes.connection
        digest = self.rows.digests.signal(str(event.signal_id))
        value = {
            "household": event.household,
            "signal_id": str(event.signal_id),
            "signal_type": event.signal_type,
        }
        connection.execute(
            update(signals)
            .where(signals.c.signal == digest)
            .values(sealed=self._seal(connection, digest, value))
        )

    def _retracted(self, writes: PendingInserts, _position: int, event: Any) -> None:
        """A retracted signal awaits no decision; what it was told stays (no item: the
        publisher retracted it itself)."""
        connection = writes.connection
        digest = self.rows.digests.signal(str(event.signal_id))
        connection.execute(update(signals).where(signals.c.signal == digest).values(standing=False))

    def _found_unfounded(self, writes: PendingInserts, position: int, event: Any) -> None:
        """Veilig Thuis found the signal unfounded: its publisher alone hears that (not the
        reason: it is Veilig Thuis's note on its investigation of the household), and the
        signal awaits no decision any more (it no longer counts)."""
        connection = writes.connection
        digest = self.rows.digests.signal(str(event.signal_id))
        status, on = ReporterStatus.FOUND_UNFOUNDED, dutch_date(event.found_at)
        concerned = self._concerned(connection, signals.c.signal == digest)
        connection.execute(
            update(signals)
            .where(signals.c.signal == digest)
            .values(standing=False, status=str(status), status_on=on)
        )
        self._items(writes, position, event, concerned, status, on, {})

    def _decided(self, writes: PendingInserts, position: int, event: Any) -> None:
        """The decision answers the household's signals that await one."""
        connection = writes.connection
        household = self.rows.household(event.household)
        waiting = (
            (signals.c.household == household)
            & signals.c.standing.is_(True)
            & signals.c.answered_by.is_(None)
        )
        status = feedback.decision_status(event.decision)
        answered = self._concerned(connection, waiting)
        connection.execute(
            update(signals)
            .where(waiting)
            .values(
                status=str(status),
                status_on=dutch_date(event.assessed_at),
                answered_by=self.rows.digests.of(ASSESSMENT, event.assessment_id),
                decision=event.decision,
            )
        )
        more = {
            "within_norm": feedback.within_norm(event.reported_at, event.assessed_at),
            "decision": event.decision,
        }
        self._items(writes, position, event, answered, status, dutch_date(event.assessed_at), more)

    def _closed(self, writes: PendingInserts, position: int, event: Any) -> None:
        """The investigation's closure concerns the signals its decision answered."""
        connection = writes.connection
        answered_by = self.rows.digests.of(ASSESSMENT, event.assessment_id)
        those = (signals.c.answered_by == answered_by) & signals.c.standing.is_(True)
        concerned = self._concerned(connection, those)
        status, on = ReporterStatus.ENDED, dutch_date(event.closed_at)
        connection.execute(
            update(signals)
            .where(those)
            .values(status=str(status), status_on=on, conclusion=event.outcome)
        )
        self._items(writes, position, event, concerned, status, on, {"conclusion": event.outcome})

    def _prosecution_decided(self, writes: PendingInserts, position: int, event: Any) -> None:
        """The OM decided: every publisher with a standing signal in the household hears that
        it did (not what)."""
        connection = writes.connection
        household = self.rows.household(event.household)
        standing = (signals.c.household == household) & signals.c.standing.is_(True)
        concerned = self._concerned(connection, standing)
        status, on = ReporterStatus.PROSECUTION_DECIDED, dutch_date(event.occurred_at)
        connection.execute(update(signals).where(standing).values(status=str(status), status_on=on))
        self._items(writes, position, event, concerned, status, on, {})

    # --- helpers ----------------------------------------------------------------------------

    def _concerned(self, connection: Connection, where: Any) -> list[Awaiting]:
        query = select(signals.c.signal, signals.c.organisation, signals.c.sector).where(where)
        return [Awaiting(*row) for row in connection.execute(query)]

    def _items(
        self,
        writes: PendingInserts,
        position: int,
        event: Any,
        concerned: Iterable[Awaiting],
        status: ReporterStatus,
        on: Any,
        more: dict[str, Any],
    ) -> None:
        """One item per concerned organisation, in organisation order."""
        for index, (organisation, digests, sector) in enumerate(
            feedback.by_organisation(concerned)
        ):
            body = feedback.details(status, on, sector, **more)
            self._item(writes, position, index, event, organisation, digests, status, body)

    def _item(
        self,
        writes: PendingInserts,
        position: int,
        index: int,
        event: Any,
        organisation: str,
        digests: list[str],
        status: ReporterStatus,
        details: dict[str, Any],
    ) -> None:
        occurred: datetime = event.timestamp
        row = {
            "cursor": item_cursor(position, index),
            "recipient": organisation,
            "household": self.rows.household(event.household),
            "occurred_at": stored_utc(occurred),
            "status": str(status),
            "signals": sorted(digests),
            "details": details,
        }
        writes.add(items, row)

    def _seal(self, connection: Connection, digest: str, value: dict[str, Any]) -> bytes:
        return self.rows.seal(connection, signals, value["household"], (digest,), value)

    def _signal_ids(self, connection: Connection, digests: set[str]) -> dict[str, str]:
        """The signal ids of these digests that still open."""
        if not digests:
            return {}
        query = select(signals).where(signals.c.signal.in_(sorted(digests)))
        raws = [row._mapping for row in connection.execute(query)]
        self.rows.prefetch(raw["household"] for raw in raws)
        opened = {raw["signal"]: self.rows.open_row(SIGNALS, raw) for raw in raws}
        return {d: str(row["signal_id"]) for d, row in opened.items() if row is not None}


def _as_shown(row: dict[str, Any]) -> dict[str, Any]:
    """A signal's row as its publisher may read it: not the household, and the decision and
    conclusion only for the sectors whose agreement gives them (radar/feedback.py)."""
    hidden = {"household"}
    if row["sector"] not in feedback.DETAILED_SECTORS:
        hidden |= {"decision", "conclusion"}
    shown = {key: value for key, value in row.items() if key not in hidden}
    return {**shown, "received_on": dutch_date(stored_utc(row["received_at"]))}
