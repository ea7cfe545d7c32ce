"""The Handle with Care read model: the notices, who receives each, and the receivers' feed
(`/v1/feeds/handle-with-care`, a FeedSource).

Who receives a notice is decided here, when its confirmation is applied, from the events before
it in store order (a rebuild decides the same): the school that last published a signal naming
the child (education sector), which then finds its pupil by its own signal's id and the child's
place among that signal's persons; otherwise the leerplicht office of the child's municipality
(organisation id `leerplicht-<cbs code>`, e.g. `leerplicht-gm0344`), which gets a notice
reference only. Nothing else leaves: not what happened, not the household, not another child.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from eventsourcing.utils import get_topic
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from contracts.vocabulary_v2 import SectorV2
from privacy.purposes import Resource
from radar.alerts import AlertKind, alert_id
from radar.case import HouseholdCase
from radar.case_hwc import (
    CHILD,
    WORDS,
    NoticeAcknowledged,
    NoticeConfirmed,
    NoticeCreated,
    NoticeDeclined,
    NoticeStatus,
)
from radar.household import Household
from services.casework.sealing import SealedReadModel
from services.database import stored_utc
from services.feeds.items import FeedItem, item_cursor
from services.handle_with_care.tables import NOTICES, PUPILS, metadata, notices, pupils
from services.projections.bulk import PendingInserts
from services.projections.positions import moving_position, reset_position

HWC_PROJECTION = "radar_handle_with_care"
KIND = "handle-with-care"
SCHOOL = "school"
COMPULSORY_EDUCATION = "compulsory_education"
EDUCATION = str(SectorV2.EDUCATION)
BODY_FIELDS = frozenset({"notice_id", "message", "school_day", "deadline", "child"})
"""All a receiver learns: which notice, the words, the school day, its deadline, and how to find
the child (its own signal and the child's place in it, or a reference to re-identify by)."""


def leerplicht_office(municipality: str) -> str:
    """The organisation id of a municipality's leerplicht office (its credentials name it)."""
    return f"leerplicht-{municipality.lower()}"


class HandleWithCareStore(SealedReadModel):
    """Reads and writes the Handle with Care tables (a ReadModel and a FeedSource)."""

    name = HWC_PROJECTION
    kind = KIND
    resource = Resource.HANDLE_WITH_CARE
    fields = BODY_FIELDS
    topics: tuple[str, ...] = tuple(
        get_topic(cls)
        for cls in (
            Household.SignalRecorded,
            Household.SignalRetracted,
            NoticeCreated,
            NoticeConfirmed,
            NoticeDeclined,
            NoticeAcknowledged,
            HouseholdCase.AlertRaised,
        )
    )
    tables = metadata
    format = 2  # households by digest, pseudonyms sealed

    def reset(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(notices))
            connection.execute(delete(pupils))
            reset_position(connection, self.name)

    # --- queries ----------------------------------------------------------------------------

    def items_after(self, recipient: str, after: int, limit: int) -> Sequence[FeedItem]:
        query = (
            select(notices)
            .where(notices.c.recipient == recipient, notices.c.cursor > after)
            .order_by(notices.c.cursor)
            .limit(limit)
        )
        return [self.item(row) for row in self._opened(query)]

    def received(self, recipient: str, limit: int) -> list[dict[str, Any]]:
        """The recipient's notices, newest school day first (its page: with acknowledgement)."""
        query = (
            select(notices)
            .where(notices.c.recipient == recipient)
            .order_by(notices.c.cursor.desc())
            .limit(limit)
        )
        return self._opened(query)

    def notice(self, notice_id: str) -> dict[str, Any] | None:
        """One notice as it reads (None if unknown or its household was erased)."""
        found = self._opened(select(notices).where(notices.c.notice == notice_id))
        return found[0] if found else None

    def pending(self, region: str) -> list[dict[str, Any]]:
        """The region's notices waiting for Veilig Thuis, oldest first."""
        query = (
            select(notices)
            .where(notices.c.region == region, notices.c.status == str(NoticeStatus.PENDING))
            .order_by(notices.c.occurred_at, notices.c.notice)
        )
        return self._opened(query)

    def household_notices(self, household: str) -> list[dict[str, Any]]:
        query = select(notices).where(notices.c.household == self.rows.household(household))
        return sorted(self._opened(query), key=lambda row: (row["occurred_at"], row["notice"]))

    def due_reminders(self, now: datetime) -> list[tuple[str, str]]:
        """(household, notice id) of confirmed notices unacknowledged at their deadline and
        not yet reminded."""
        query = (
            select(notices)
            .where(
                notices.c.status == str(NoticeStatus.CONFIRMED),
                notices.c.acknowledged_at.is_(None),
                notices.c.reminder_alert.is_(None),
                notices.c.deadline <= now,
            )
            .order_by(notices.c.deadline, notices.c.notice)
        )
        return [(row["household"], row["notice"]) for row in self._opened(query)]

    def rows_about(self, households: Sequence[str] | None) -> dict[str, list[dict[str, Any]]]:
        """The rows about these households (all for None), as they read: for an audit."""
        with self.engine.connect() as connection:
            return {
                notices.name: self.rows.read(connection, NOTICES, households),
                pupils.name: self.rows.read(connection, PUPILS, households),
            }

    def dump(self) -> dict[str, list[dict[str, Any]]]:
        """Every row as it reads: for comparing with a rebuild."""
        rows = self.rows_about(None)
        times = ("occurred_at", "deadline", "confirmed_at", "acknowledged_at")
        return {
            "notices": [
                {**r, **{t: r[t] and stored_utc(r[t]) for t in times}} for r in rows[notices.name]
            ],
            "pupils": rows[pupils.name],
        }

    def _opened(self, query: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            raws = [row._mapping for row in connection.execute(query)]
        self.rows.prefetch(raw["household"] for raw in raws)
        opened = (self.rows.open_row(NOTICES, raw) for raw in raws)
        return [row for row in opened if row is not None]

    @staticmethod
    def item(row: dict[str, Any]) -> FeedItem:
        assert row["confirmed_at"] is not None and row["deadline"] is not None
        return FeedItem(
            cursor=row["cursor"],
            kind=KIND,
            recipient=row["recipient"],
            occurred_at=stored_utc(row["confirmed_at"]),
            body={
                "notice_id": row["notice"],
                "message": WORDS,
                "school_day": row["school_day"].isoformat(),
                "deadline": stored_utc(row["deadline"]).isoformat(),
                "child": row["reference"],
            },
        )

    # --- applying events --------------------------------------------------------------------

    def apply_events(
        self, events: Sequence[tuple[int, Any]], expected: int, new_position: int
    ) -> None:
        """As every sealed read model, but each event with its notification id: a confirmed
        notice's feed cursor is that of its confirmation (services/feeds/items.py)."""
        with moving_position(self.engine, self.name, expected, new_position, events) as connection:
            writes = PendingInserts(connection)  # the pupils of a run of school signals
            for position, event in events:
                if isinstance(event, Household.SignalRecorded):
                    if event.sector == EDUCATION:
                        self._pupils(writes, event)
                else:
                    self._apply_at(writes.connection, position, event)
            writes.flush()

    def _apply_at(self, connection: Connection, position: int, event: Any) -> None:
        if isinstance(event, Household.SignalRetracted):
            # a retracted school signal no longer tells which school: its children's notices
            # go to the leerplicht office from now on
            signal = self.digests.signal(str(event.signal_id))
            connection.execute(delete(pupils).where(pupils.c.signal == signal))
        elif isinstance(event, NoticeCreated):
            self._created(connection, event)
        elif isinstance(event, NoticeConfirmed):
            self._confirmed(connection, event, position)
        elif isinstance(event, NoticeDeclined):
            self._update(connection, event.notice_id, status=str(NoticeStatus.DECLINED))
        elif isinstance(event, NoticeAcknowledged):
            self._update(
                connection, event.notice_id, acknowledged_at=stored_utc(event.acknowledged_at)
            )
        elif (
            isinstance(event, HouseholdCase.AlertRaised)
            and event.kind == AlertKind.HWC_UNACKNOWLEDGED
        ):
            notice = self._notice_of_alert(connection, event)
            if notice is not None:
                self._update(connection, notice, reminder_alert=event.alert_id)

    def _pupils(self, writes: PendingInserts, event: Household.SignalRecorded) -> None:
        """The school is the latest publisher of an education signal naming the child."""
        for place, person in enumerate(event.persons, start=1):
            if CHILD not in person["roles"]:
                continue
            child = self.digests.person(person["pseudonym"])
            sealed = {"signal_id": str(event.signal_id), "person": place}
            row = {
                "child": child,
                "household": self.rows.household(event.household),
                "school": event.organisation,
                "signal": self.digests.signal(str(event.signal_id)),
                "sealed": self.rows.seal(
                    writes.unflushed, pupils, event.household, (child,), sealed
                ),
            }
            writes.add(pupils, row, replacing="child")

    def _created(self, connection: Connection, event: NoticeCreated) -> None:
        sealed = {"household": event.household, "child": event.child, "reference": None}
        connection.execute(
            insert(notices).values(
                notice=event.notice_id,
                household=self.rows.household(event.household),
                region=event.region,
                status=str(NoticeStatus.PENDING),
                occurred_at=stored_utc(event.occurred_at),
                sealed=self._seal(connection, event.household, event.notice_id, sealed),
            )
        )

    def _confirmed(self, connection: Connection, event: NoticeConfirmed, position: int) -> None:
        row = self.notice_in(connection, event.notice_id)
        if row is None:
            return  # its household was erased
        school = self._school(connection, row["child"])
        if school is None:
            recipient, kind = leerplicht_office(event.municipality), COMPULSORY_EDUCATION
            reference: dict[str, Any] = {"reference": event.notice_id}
        else:
            recipient, kind = school["school"], SCHOOL
            reference = {"your_signal": school["signal_id"], "person": school["person"]}
        sealed = {"household": event.household, "child": row["child"], "reference": reference}
        self._update(
            connection,
            event.notice_id,
            status=str(NoticeStatus.CONFIRMED),
            recipient=recipient,
            recipient_kind=kind,
            school_day=date.fromisoformat(event.school_day),
            deadline=stored_utc(event.deadline),
            confirmed_at=stored_utc(event.confirmed_at),
            cursor=item_cursor(position),
            sealed=self._seal(connection, event.household, event.notice_id, sealed),
        )

    def notice_in(self, connection: Connection, notice_id: str) -> dict[str, Any] | None:
        raw = connection.execute(select(notices).where(notices.c.notice == notice_id)).first()
        return None if raw is None else self.rows.open_row(NOTICES, raw._mapping)

    def _school(self, connection: Connection, child: str) -> dict[str, Any] | None:
        query = select(pupils).where(pupils.c.child == self.digests.person(child))
        raw = connection.execute(query).first()
        return None if raw is None else self.rows.open_row(PUPILS, raw._mapping)

    def _notice_of_alert(
        self, connection: Connection, event: HouseholdCase.AlertRaised
    ) -> str | None:
        """The notice an overdue alert is about: the household's confirmed notice of the
        trigger signal whose alert id this is (radar.alerts.alert_id keyed by the notice)."""
        household = self.rows.household(event.household)
        query = select(notices.c.notice).where(notices.c.household == household)
        case = HouseholdCase.create_id(event.household)
        for (notice,) in connection.execute(query):
            if alert_id(case, AlertKind.HWC_UNACKNOWLEDGED, notice) == event.alert_id:
                return str(notice)
        return None

    def _seal(
        self, connection: Connection, household: str, notice: str, value: dict[str, Any]
    ) -> bytes:
        return self.rows.seal(connection, notices, household, (notice,), value)

    def _update(self, connection: Connection, notice: str, **values: Any) -> None:
        connection.execute(update(notices).where(notices.c.notice == notice).values(**values))
