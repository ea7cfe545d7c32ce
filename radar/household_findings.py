"""Veilig Thuis's own findings on a household's signals (issue 17): a signal found unfounded
(*ongegrond*: after investigation VT found it did not hold) and a protected reporter.

A mixin of radar.household.Household, on top of the publisher's rectification (it extends
HouseholdRectification: a finding is VT's, a correction or retraction the publisher's, and both
decide which signals count). The original SignalRecorded stays; the finding is an event of its
own, so a replay up to a moment before it shows the score as it was.

- **Unfounded**: the signal leaves the household's facts (so its score and its region evidence)
  as a retraction would, but its id stays known and the timeline keeps it, marked. A publisher's
  later correction or retraction of it is refused (SignalNotCorrectableError): VT's finding
  stands, and the signal no longer counts either way.
- **Reporter protection**: per publishing organisation within the household, recorded from one
  of its signals. A reporter who reported once is named by every signal of theirs (a school by
  its name and sector on each), so protecting one signal alone would protect nobody; a private
  reporter to VT (a vt_report's `reported_by`) is protected with the VT organisation's signals.
  Nothing that reaches the household (the inzage) names a protected organisation.

The events' stored topics are `radar.household_findings:SignalFoundUnfounded` and
`radar.household_findings:ReporterProtected`: never rename them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from contracts.correction_v1 import SignalCorrectionV1
from radar.alerts import StaffRef
from radar.free_text import checked_text
from radar.household_rectification import HouseholdRectification
from radar.household_state import SignalNotCorrectableError
from radar.risk import SignalFact

VT_ROLES = frozenset({"triage", "safety_assessment"})
"""The Veilig Thuis roles that investigate a report, and so may record what they found."""
UNFOUNDED_CAUSE = "unfounded"
"""The `cause` of the ScoreChanged that follows a finding: the explanation says so."""


class FindingError(ValueError):
    """A finding the radar refuses; names the field at fault (422)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


class FindingConflictError(ValueError):
    """The finding was recorded before (409): a signal is found unfounded once, a reporter
    protected once."""


class UnknownSignalError(LookupError):
    """The household holds no such signal (or it was retracted): 404."""


class SignalFoundUnfounded(Aggregate.Event):
    """Veilig Thuis found after investigation that the signal did not hold (ongegrond)."""

    household: str
    signal_id: UUID
    organisation: str  # the signal's publisher: it hears of the finding (terugmelding)
    reason: str  # through the leak guard
    by: dict[str, str]  # StaffRef record
    found_at: datetime

    def apply(self, aggregate: Any) -> None:
        aggregate.on_signal_found_unfounded(self)


class ReporterProtected(Aggregate.Event):
    """Veilig Thuis protects the reporter: the organisation of `signal_id` is named to the
    household nowhere (its signals' source is withheld in the inzage)."""

    household: str
    signal_id: UUID  # the signal VT marked it from
    organisation: str  # the protected publishing organisation
    reason: str  # through the leak guard
    by: dict[str, str]  # StaffRef record
    protected_at: datetime

    def apply(self, aggregate: Any) -> None:
        aggregate.protected_sources = (*aggregate.protected_sources, self.organisation)


@dataclass(frozen=True)
class Source:
    """A recorded signal and its publishing organisation (the aggregate does not keep the
    organisation: the ledger reads it from the signal's SignalRecorded event)."""

    signal_id: str
    organisation: str


class HouseholdFindings(HouseholdRectification):
    """Findings of Veilig Thuis, beside the publisher's corrections and retractions."""

    # Immutable defaults, replaced (never changed in place) when an event applies: a household
    # created, or snapshotted, before these existed reads as having none (no snapshot upcast).
    unfounded: tuple[SignalFact, ...] = ()  # the facts of the signals found unfounded, in order
    protected_sources: tuple[str, ...] = ()  # protected publishing organisations, in order

    def is_unfounded(self, signal_id: str) -> bool:
        return any(f.signal_id == signal_id for f in self.unfounded)

    def find_unfounded(self, signal: Source, by: StaffRef, reason: str, at: datetime) -> None:
        """Records that VT found the signal unfounded; it stops counting at once (the caller
        rescores). Refused: not a VT investigating role, an empty or identifying reason, an
        unknown (or retracted) signal, a signal found unfounded before."""
        self._check_signal(signal.signal_id, by)
        if self.is_unfounded(signal.signal_id):
            raise FindingConflictError("this signal was found unfounded before")
        self.trigger_event(
            SignalFoundUnfounded,
            household=self.pseudonym,
            signal_id=UUID(signal.signal_id),
            organisation=signal.organisation,
            reason=_reason(reason),
            by=by.record(),
            found_at=at,
        )

    def protect_reporter(self, signal: Source, by: StaffRef, reason: str, at: datetime) -> None:
        """Protects the reporter of the signal (its publishing organisation, in this
        household). Refused as `find_unfounded` is, and when the organisation is protected
        already. An unfounded signal's reporter may be protected: the signal stays in the
        inzage."""
        self._check_signal(signal.signal_id, by)
        organisation = signal.organisation
        if organisation in self.protected_sources:
            raise FindingConflictError("this reporter is protected already")
        self.trigger_event(
            ReporterProtected,
            household=self.pseudonym,
            signal_id=UUID(signal.signal_id),
            organisation=organisation,
            reason=_reason(reason),
            by=by.record(),
            protected_at=at,
        )

    def on_signal_found_unfounded(self, found: SignalFoundUnfounded) -> None:
        """What a SignalFoundUnfounded changes (its `apply`): the signal leaves the facts."""
        key = str(found.signal_id)
        left_out = [f for f in self.facts if f.signal_id == key]
        self.unfounded = (*self.unfounded, *left_out)  # what a view may say was left out
        self._latest_fact = None
        self.facts = [f for f in self.facts if f.signal_id != key]
        self._keep(removed=key)

    def _correctable(self, correction: SignalCorrectionV1) -> SignalFact | None:
        """As the publisher's rectification has it, but for a signal VT found unfounded: a
        correction or retraction of it applies nowhere (a redelivered one is still a
        duplicate)."""
        already = str(correction.correction_id) in self.corrections
        if not already and self.is_unfounded(str(correction.corrects)):
            raise SignalNotCorrectableError("Veilig Thuis found this signal unfounded")
        return super()._correctable(correction)

    def _check_signal(self, signal_id: str, by: StaffRef) -> None:
        """The role first (a refusal then tells nothing of the household), then the signal."""
        _check_role(by)
        if signal_id not in self.signal_types or self.is_retracted(signal_id):
            raise UnknownSignalError("the household holds no such signal")


def _check_role(by: StaffRef) -> None:
    if by.role not in VT_ROLES:
        raise FindingError("role", f"only {' and '.join(sorted(VT_ROLES))} record findings")


def _reason(reason: str) -> str:
    try:
        return checked_text(reason, "the reason")
    except ValueError as error:
        raise FindingError("reason", str(error)) from error
