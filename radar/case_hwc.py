"""Handle with Care: the child's school hears *that* the police were called to the child's home,
never *what* happened, before lessons start on the next school day.

A mixin of radar.case.HouseholdCase. An eligible police signal (ELIGIBLE_TYPES, from the police
sector, naming a child aged MIN_AGE to MAX_AGE) makes one notice per such child, pending until
Veilig Thuis checks the criteria and confirms or declines it; a region whose rule says so
(radar/handle_with_care.toml, none by default) confirms at once when the radar knows where the
household lives. A confirmed notice is for a school day (radar.school_calendar) with a deadline
of 08:30 that day; the receiver acknowledges it, and a notice still unacknowledged at its
deadline raises an alert on the region's worklist, closed by the acknowledgement.

Who receives it is not the aggregate's to know: only the recorded signals name the organisation
that published them, so the Handle with Care read model (services/handle_with_care/store.py)
decides, from the events before the confirmation, in store order (a rebuild decides the same).

The events are module-level classes; their stored topics (`radar.case_hwc:...`) are part of the
contract: never rename them.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from contracts.signal_types_v2 import SignalTypeV2
from contracts.vocabulary_v2 import PersonRoleV2, SectorV2
from radar.alerts import Alert, AlertKind, alert_id
from radar.case_assessment import Step
from radar.free_text import checked_text
from radar.regions import registry
from radar.risk import Assessment, SignalFact
from radar.school_calendar import UnknownSchoolYearError, school_calendar

ELIGIBLE_TYPES = frozenset(
    {
        str(SignalTypeV2.DOMESTIC_INCIDENT),  # a call-out to a domestic violence incident
        str(SignalTypeV2.INCIDENT_WITH_CHILDREN_PRESENT),
        str(SignalTypeV2.HUISVERBOD),  # a restraining order the police carried out at home
    }
)
"""Police signals of a call-out to the home. A zorgmelding is a report of concern, not a
call-out, and makes no notice; nor does any other sector's signal."""
POLICE = str(SectorV2.POLICE)
CHILD = str(PersonRoleV2.CHILD)
MIN_AGE = 4
MAX_AGE = 18
"""Handle with Care is for children of school age: 4 (most start school) to 18 (the end of the
qualification duty). A child whose age the signal does not give makes no notice."""
RULE_FILE = Path(__file__).with_name("handle_with_care.toml")
WORDS = "Handle with Care"


class NoticeStatus(StrEnum):
    PENDING = "pending"  # Veilig Thuis checks the criteria
    CONFIRMED = "confirmed"
    DECLINED = "declined"


class NoticeError(ValueError):
    """A confirmation the radar refuses; names the field at fault (422)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


class NoticeStateError(ValueError):
    """A step the notice's history does not allow: confirmed twice, acknowledged before it was
    confirmed (409)."""


class UnknownNoticeError(LookupError):
    """The case has no such notice (404)."""


@dataclass
class Notice:
    """A Handle with Care notice as the case knows it."""

    notice_id: str
    child: str  # the child's person pseudonym
    signal_id: str  # the police signal it follows
    occurred_at: datetime
    region: str  # the Veilig Thuis region that checks it
    status: NoticeStatus = NoticeStatus.PENDING
    municipality: str | None = None
    school_day: date | None = None
    deadline: datetime | None = None
    acknowledged_at: datetime | None = None


@dataclass(frozen=True)
class AutoConfirmRule:
    """The regions that confirm a notice without a person checking it (their documented rule)."""

    regions: frozenset[str]

    @classmethod
    def load(cls, path: Path = RULE_FILE) -> AutoConfirmRule:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        return cls(frozenset(data["auto_confirm_regions"]))


@cache
def auto_confirm_rule() -> AutoConfirmRule:
    return AutoConfirmRule.load()


def eligible_children(fact: SignalFact) -> list[str]:
    """The children of a police call-out signal a notice is for (sorted), none otherwise."""
    if fact.sector != POLICE or fact.signal_type not in ELIGIBLE_TYPES:
        return []
    return sorted(
        {
            p.pseudonym
            for p in fact.persons
            if CHILD in p.roles and p.age is not None and MIN_AGE <= p.age <= MAX_AGE
        }
    )


def notice_id(case: UUID, signal_id: str, child: str) -> str:
    """A deterministic id: one notice per child per signal."""
    return str(uuid5(case, f"handle-with-care:{signal_id}:{child}"))


class NoticeCreated(Aggregate.Event):
    """An eligible police signal named this child: a notice waits for Veilig Thuis."""

    household: str
    notice_id: str
    child: str
    signal_id: str
    occurred_at: datetime
    region: str

    def apply(self, aggregate: Any) -> None:
        aggregate.notices[self.notice_id] = Notice(
            self.notice_id, self.child, self.signal_id, self.occurred_at, self.region
        )


class NoticeConfirmed(Aggregate.Event):
    """Veilig Thuis (or its region's rule: `by` then names the rule) confirmed the notice: it is
    for `school_day`, to be with the receiver by `deadline`."""

    household: str
    notice_id: str
    by: dict[str, str]  # StaffRef record, or {"rule": ...} for a region's automatic rule
    municipality: str  # CBS code of the child's municipality
    holiday_region: str
    school_day: str  # ISO date
    deadline: datetime
    confirmed_at: datetime

    def apply(self, aggregate: Any) -> None:
        notice = aggregate.notices[self.notice_id]
        notice.status = NoticeStatus.CONFIRMED
        notice.municipality = self.municipality
        notice.school_day = date.fromisoformat(self.school_day)
        notice.deadline = self.deadline
        if "rule" not in self.by:
            aggregate.taken_up_at = self.timestamp  # a person's step (radar.case._PersonsStep)


class NoticeDeclined(Aggregate.Event):
    """Veilig Thuis found the criteria not met: nobody is told."""

    household: str
    notice_id: str
    by: dict[str, str]
    reason: str
    declined_at: datetime

    def apply(self, aggregate: Any) -> None:
        aggregate.notices[self.notice_id].status = NoticeStatus.DECLINED
        aggregate.taken_up_at = self.timestamp


class NoticeAcknowledged(Aggregate.Event):
    """The receiver (school or leerplicht office) read the notice and said so."""

    household: str
    notice_id: str
    by: dict[str, str]  # the receiver's contact: subject, organisation, role
    acknowledged_at: datetime

    def apply(self, aggregate: Any) -> None:
        aggregate.notices[self.notice_id].acknowledged_at = self.acknowledged_at


class CaseHandleWithCare:
    """Making, confirming, declining and acknowledging the case's Handle with Care notices."""

    id: UUID
    household: str
    alerts: dict[str, Alert]
    _notices: dict[str, Notice] | None = None

    if TYPE_CHECKING:  # eventsourcing's, and the aggregate's own

        def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...

        def _alert_closed(self, alert_id: str, by: dict[str, Any], reason: str) -> None: ...

        def raise_alert(self, *args: Any, **kwargs: Any) -> str | None: ...

    @property
    def notices(self) -> dict[str, Notice]:
        """The notices by id (made on first use: a case recorded before had none)."""
        if self._notices is None:
            self._notices = {}
        return self._notices

    def notice_children(
        self,
        facts: Iterable[SignalFact],
        municipality: str | None,
        at: datetime,
        rule: AutoConfirmRule,
    ) -> list[str]:
        """Makes the notices these new signals call for (none twice); confirms each at once
        when its region's rule says so and the household's municipality is known. Returns the
        new notice ids."""
        made = []
        for fact in facts:
            for child in eligible_children(fact):
                new_id = notice_id(self.id, fact.signal_id, child)
                if new_id in self.notices:
                    continue
                self._notice_event(
                    NoticeCreated,
                    new_id,
                    child=child,
                    signal_id=fact.signal_id,
                    occurred_at=fact.occurred_at,
                    region=fact.region,
                )
                made.append(new_id)
                if fact.region in rule.regions and municipality is not None:
                    self._auto_confirm(new_id, municipality, at)
        return made

    def _auto_confirm(self, notice: str, municipality: str, at: datetime) -> None:
        try:
            self._confirm(notice, {"rule": "auto_confirm_region"}, municipality, at)
        except (NoticeError, UnknownSchoolYearError):
            return  # left pending: a person at Veilig Thuis confirms it

    def confirm_notice(self, notice: str, step: Step, municipality: str | None) -> Notice:
        """Veilig Thuis confirms the criteria are met; `municipality` (where the child lives,
        CBS code or name) is needed when the radar does not know it."""
        found = self._pending(notice)
        if municipality is None:
            raise NoticeError("municipality", "where the child lives is needed (CBS code or name)")
        self._confirm(found.notice_id, step.by.record(), municipality, step.at)
        return found

    def decline_notice(self, notice: str, step: Step) -> Notice:
        found = self._pending(notice)
        self._notice_event(
            NoticeDeclined,
            notice,
            by=step.by.record(),
            reason=checked_text(step.reason, "the reason"),
            declined_at=step.at,
        )
        return found

    def acknowledge_notice(self, notice: str, by: dict[str, str], at: datetime) -> Notice:
        """The receiver acknowledges; it closes the notice's overdue alert if one was raised.
        A second acknowledgement changes nothing."""
        found = self._notice(notice)
        if found.status != NoticeStatus.CONFIRMED:
            raise NoticeStateError("only a confirmed notice can be acknowledged")
        if found.acknowledged_at is not None:
            return found
        self._notice_event(NoticeAcknowledged, notice, by=by, acknowledged_at=at)
        overdue = self.alerts.get(alert_id(self.id, AlertKind.HWC_UNACKNOWLEDGED, notice))
        if overdue is not None and overdue.is_open:
            self._alert_closed(alert_id=overdue.alert_id, by=by, reason="acknowledged")
        return found

    def remind_unacknowledged(self, notice: str, now: datetime, score: Assessment) -> str | None:
        """Raises the alert of a confirmed notice still unacknowledged at its deadline; None
        when acknowledged, not yet due, or raised before."""
        found = self.notices.get(notice)
        if found is None or found.deadline is None or found.acknowledged_at is not None:
            return None
        if now < found.deadline:
            return None
        raised: str | None = self.raise_alert(
            AlertKind.HWC_UNACKNOWLEDGED,
            key=notice,
            region=found.region,
            raised_at=now,
            assessment=score,
            reasons=[str(AlertKind.HWC_UNACKNOWLEDGED)],
            trigger_signals=[found.signal_id],
            check_date=None if found.school_day is None else found.school_day.isoformat(),
        )
        return raised

    def _confirm(self, notice: str, by: dict[str, str], municipality: str, at: datetime) -> None:
        try:
            code = registry().municipality(municipality).code
        except ValueError as error:
            raise NoticeError("municipality", "not a Dutch municipality (CBS code or name)") from (
                error
            )
        calendar = school_calendar()
        holiday_region = calendar.holiday_region(code)
        found = self.notices[notice]
        try:
            day, deadline = calendar.school_day_for(max(at, found.occurred_at), holiday_region)
        except UnknownSchoolYearError as error:
            raise NoticeError("confirmed_at", str(error)) from error
        self._notice_event(
            NoticeConfirmed,
            notice,
            by=by,
            municipality=code,
            holiday_region=str(holiday_region),
            school_day=day.isoformat(),
            deadline=deadline,
            confirmed_at=at,
        )

    def _notice_event(self, event_class: Any, notice: str, **fields: Any) -> None:
        """Records one of the notice's events (each names the household and the notice)."""
        self.trigger_event(event_class, household=self.household, notice_id=notice, **fields)

    def _notice(self, notice: str) -> Notice:
        found = self.notices.get(notice)
        if found is None:
            raise UnknownNoticeError("the household has no such Handle with Care notice")
        return found

    def _pending(self, notice: str) -> Notice:
        found = self._notice(notice)
        if found.status != NoticeStatus.PENDING:
            raise NoticeStateError(f"this notice was already {found.status}")
        return found
