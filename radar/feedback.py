"""Terugmelding: what a publishing organisation hears about its own signals, and the rules
that decide which of Veilig Thuis's steps concern which publisher.

Pure: no I/O. The read model (services/feedback/) keeps the signals and applies these rules
to the stored events; the rules are here so that they read in one place.

The vocabulary (`ReporterStatus`) is small and fixed on purpose: a reporter learns what Veilig
Thuis did with *its* signals, never the instrument's answers, the score, the alerts, other
parties' signals or who else reported.

- `recorded`: the signal is in the event store (the ingest's 2xx said it is in Kafka; this says
  the radar recorded it on the household). There is no separate "received": the feed is made
  from the store, and a signal the store does not hold has no feedback to give.
- `taken_on`: after the safety assessment Veilig Thuis continues itself (own investigation,
  conditions and follow-up, a request to the Child Protection Board, a referral to police/OM).
- `handed_over`: help continues elsewhere (the local team, or care already involved, MDA++);
  Veilig Thuis's involvement ends with the decision.
- `not_taken_on`: Veilig Thuis ends its involvement without further steps.
- `ended`: the own investigation Veilig Thuis started was closed.
- `prosecution_decided`: the OM decided on the case (that it decided, not what).
- `found_unfounded`: after investigation Veilig Thuis found this signal unfounded.

Which steps concern which publisher (the rule):

- A decision (a safety assessment of a report on the household) answers every signal of the
  household that is still awaiting one: recorded before the decision, not retracted, and not
  answered by an earlier decision. Each signal is answered once; its publisher hears the
  decision for exactly those signals. A signal recorded after a decision waits for the next.
- The closure of an own investigation concerns the signals its decision answered.
- The OM's decision concerns every publisher with a standing signal in the household.
- A finding that a signal was unfounded (radar.household_findings) concerns that signal's
  publisher alone, and the signal then awaits no decision. The finding's reason is not shown:
  it is Veilig Thuis's note on its investigation of the household, and may say what others
  reported; the publisher learns *that* its signal was found unfounded, and when.
- Veilig Thuis's own signals (its reports) get no feedback: Veilig Thuis decides and reads its
  casework itself. Nor the OM's: its decision is itself the feedback.

The police (their agreement on feedback about zorgmeldingen, the samenwerkingsafspraken
politie - Veilig Thuis): the police follow up a zorgmelding themselves and are a partner in the
criminal chain (a referral of a suspected offence goes to them), so their items also carry the
instrument's decision itself (`decision`, e.g. `suspected_offence`) and the investigation's
conclusion (`conclusion`). Other sectors get the coarse status only: the conclusion is about the
whole household, not about their signal, and the part that is about their signal is the
unfounded finding, which they do hear.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from radar.dutch_calendar import add_working_days
from radar.lead_times import DECISION_WORKING_DAYS
from radar.safety import dutch_date
from radar.safety_assessment import SafetyDecision


class ReporterStatus(StrEnum):
    """What a publisher hears about its signal (see the module docstring for each)."""

    RECORDED = "recorded"
    TAKEN_ON = "taken_on"
    HANDED_OVER = "handed_over"
    NOT_TAKEN_ON = "not_taken_on"
    ENDED = "ended"
    PROSECUTION_DECIDED = "prosecution_decided"
    FOUND_UNFOUNDED = "found_unfounded"


DECISION_STATUS: Mapping[SafetyDecision, ReporterStatus] = {
    SafetyDecision.OWN_INVESTIGATION: ReporterStatus.TAKEN_ON,
    SafetyDecision.CONDITIONS_AND_FOLLOW_UP: ReporterStatus.TAKEN_ON,
    SafetyDecision.CHILD_PROTECTION_BOARD: ReporterStatus.TAKEN_ON,
    SafetyDecision.SUSPECTED_OFFENCE: ReporterStatus.TAKEN_ON,
    SafetyDecision.HANDOVER_LOCAL_TEAM: ReporterStatus.HANDED_OVER,
    SafetyDecision.ONGOING_CARE: ReporterStatus.HANDED_OVER,
    SafetyDecision.END_OF_INVOLVEMENT: ReporterStatus.NOT_TAKEN_ON,
}
"""Every decision of the instrument in the reporter's words (a unit test holds it complete)."""

FINAL: frozenset[ReporterStatus] = frozenset(
    {
        ReporterStatus.HANDED_OVER,
        ReporterStatus.NOT_TAKEN_ON,
        ReporterStatus.ENDED,
        ReporterStatus.FOUND_UNFOUNDED,
    }
)
"""The statuses after which Veilig Thuis's involvement with the signal has ended."""

DETAILED_SECTORS = frozenset({"police"})
"""Sectors whose agreement gives them the decision itself and the conclusion (the police)."""

SILENT_SECTORS = frozenset({"veilig_thuis", "public_prosecution"})
"""Sectors whose signals get no feedback (Veilig Thuis decides; the OM's decision is one)."""

FIELDS = frozenset({"status", "signals", "on", "within_norm", "final", "decision", "conclusion"})
"""Every key a feedback item's body may carry."""


def decision_status(decision: str) -> ReporterStatus:
    return DECISION_STATUS[SafetyDecision(decision)]


def within_norm(reported_at: datetime, decided_at: datetime) -> bool:
    """Whether the decision's Dutch date is on or before working day 5 of the report's
    (radar.lead_times: the same definition as the lead-time table)."""
    due = add_working_days(dutch_date(reported_at), DECISION_WORKING_DAYS)
    return dutch_date(decided_at) <= due


@dataclass(frozen=True)
class Awaiting:
    """A publisher's signal as the rules need it."""

    signal_id: str
    organisation: str
    sector: str


def by_organisation(signals: Iterable[Awaiting]) -> list[tuple[str, list[str], str]]:
    """(organisation, its signal ids, its sector) for the signals that get feedback, in
    organisation order (the order of the items one event causes, so a rebuild keeps it)."""
    grouped: dict[str, tuple[list[str], str]] = {}
    for s in signals:
        if s.sector not in SILENT_SECTORS:
            grouped.setdefault(s.organisation, ([], s.sector))[0].append(s.signal_id)
    return [(org, sorted(ids), sector) for org, (ids, sector) in sorted(grouped.items())]


def details(status: ReporterStatus, on: date, sector: str, **more: Any) -> dict[str, Any]:
    """An item's body but for its signals (which the read model opens when it is read): the
    status, its Dutch date, whether Veilig Thuis's involvement ended with it, and the details
    the sector may see (`decision`, `conclusion`: the police only; None is left out)."""
    shown: dict[str, Any] = {"status": str(status), "on": on.isoformat(), "final": status in FINAL}
    for key, value in more.items():
        if value is None or (key in ("decision", "conclusion") and sector not in DETAILED_SECTORS):
            continue
        shown[key] = value
    assert set(shown) <= FIELDS, set(shown) - FIELDS
    return shown
