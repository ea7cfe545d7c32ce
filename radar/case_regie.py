"""Who holds the lead (regie) for a household: "one family, one plan".

A mixin of radar.case.HouseholdCase. Veilig Thuis records which professional leads the help for
a household, for which organisation, and which organisations are involved; each record replaces
the one before (the events keep them all). An involved organisation may learn who leads, and
only that: not who else is involved, nor anything anyone reported. An organisation that is not
involved learns nothing, not even whether the household is known (radar.case_regie.who_leads).
The event's stored topic is `radar.case_regie:RegieRecorded`: never rename it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eventsourcing.domain import Aggregate

from radar.case_assessment import Step
from radar.free_text import checked_text

ORGANISATION = re.compile(r"^[a-z0-9][a-z0-9-]{1,63}$")
"""How the radar names an organisation (the `organisation` of every credential)."""
MAX_INVOLVED = 50
"""More organisations than a family plan ever names: a longer list is a mistake."""
MAX_PROFESSIONAL_LENGTH = 64
NOT_INVOLVED = "your organisation is not recorded as involved with this household"
"""The one answer to an organisation that may not know: the same whether the household is
unknown, has no regie recorded, or has it without that organisation."""


class RegieError(ValueError):
    """A regie record the radar refuses; names the field at fault (422)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


class NotInvolvedError(LookupError):
    """The asking organisation is not involved (403, always the same sentence)."""


@dataclass(frozen=True)
class Regie:
    """The lead for a household, and who is involved."""

    lead_professional: str  # the professional's staff id at their organisation
    lead_organisation: str
    involved: tuple[str, ...]  # sorted; always holds the lead's organisation
    by: dict[str, str]  # StaffRef record of who at Veilig Thuis recorded it
    reason: str
    recorded_at: datetime


class RegieRecorded(Aggregate.Event):
    """Veilig Thuis recorded who leads the help for the household and who is involved."""

    household: str
    lead_professional: str
    lead_organisation: str
    involved: list[str]
    by: dict[str, str]
    reason: str
    recorded_at: datetime

    def apply(self, aggregate: Any) -> None:
        aggregate.regie = Regie(
            self.lead_professional,
            self.lead_organisation,
            tuple(self.involved),
            self.by,
            self.reason,
            self.recorded_at,
        )
        aggregate.taken_up_at = self.timestamp  # a person's step (radar.case._PersonsStep)


def _organisations(lead: str, involved: Iterable[str]) -> list[str]:
    found = sorted({lead, *involved})
    bad = [o for o in found if not ORGANISATION.match(o)]
    if bad:
        raise RegieError("involved_organisations", "not an organisation id (a-z, 0-9, -)")
    if len(found) > MAX_INVOLVED:
        raise RegieError("involved_organisations", f"at most {MAX_INVOLVED} organisations")
    return found


class CaseRegie:
    """Recording the lead and answering who leads."""

    household: str
    regie: Regie | None = None  # a case without a regie record; replaced, never mutated

    if TYPE_CHECKING:  # eventsourcing's

        def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...

    def record_regie(
        self, step: Step, lead_professional: str, lead_organisation: str, involved: list[str]
    ) -> Regie:
        """Records the lead (replacing any before); the lead's organisation is involved."""
        if not ORGANISATION.match(lead_organisation):
            raise RegieError("lead_organisation", "not an organisation id (a-z, 0-9, -)")
        professional = checked_text(
            lead_professional, "the lead professional", MAX_PROFESSIONAL_LENGTH
        )
        self.trigger_event(
            RegieRecorded,
            household=self.household,
            lead_professional=professional,
            lead_organisation=lead_organisation,
            involved=_organisations(lead_organisation, involved),
            by=step.by.record(),
            reason=checked_text(step.reason, "the reason"),
            recorded_at=step.at,
        )
        assert self.regie is not None
        return self.regie


def who_leads(case: CaseRegie | None, organisation: str) -> Regie:
    """The household's regie for an involved organisation; NotInvolvedError otherwise (also
    for a household with no case or no regie, so the answer reveals nothing)."""
    regie = None if case is None else case.regie
    if regie is None or organisation not in regie.involved:
        raise NotInvolvedError(NOT_INVOLVED)
    return regie
