"""Rectification of a household's signals (AVG art. 16): the original SignalRecorded stays,
a correction or retraction is an event of its own (a mixin of the Household aggregate, which
holds the state and declares the events; kept apart so the aggregate reads in one sitting)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

from contracts.correction_v1 import CorrectionKind, SignalCorrectionV1
from radar.household_state import AppliedCorrection, SignalNotCorrectableError
from radar.risk import SignalFact


class HouseholdRectification:
    """Corrections and retractions of recorded signals."""

    # the aggregate's (radar.household.Household) state and machinery
    pseudonym: str
    facts: list[SignalFact]
    signal_types: dict[str, str]
    corrections: dict[str, AppliedCorrection]
    _latest_fact: SignalFact | None
    SignalCorrected: Any
    SignalRetracted: Any

    if TYPE_CHECKING:  # the aggregate's own (eventsourcing's, and radar.household_score's)

        def has_signal(self, event_id: UUID) -> bool: ...

        def trigger_event(self, event_class: Any, **kwargs: Any) -> None: ...

        def _keep(self, added: SignalFact | None = None, removed: str | None = None) -> None: ...

    def is_retracted(self, signal_id: str) -> bool:
        return any(
            c.signal_id == signal_id and c.kind == CorrectionKind.RETRACTION
            for c in self.corrections.values()
        )

    def correct(self, correction: SignalCorrectionV1) -> bool:
        """Records new values of a signal; False if this correction was applied before."""
        current = self._correctable(correction)
        if current is None:
            return False
        values = correction.values
        assert values is not None  # the contract holds a correction to that
        self.trigger_event(
            self.SignalCorrected,
            household=self.pseudonym,
            signal_id=correction.corrects,
            correction_id=correction.correction_id,
            organisation=correction.organisation,
            signal_type=str(values.signal_type or current.signal_type),
            severity=str(values.severity or current.severity),
            occurred_at=values.occurred_at or current.occurred_at,
            reason=correction.reason,
            received_at=correction.received_at,
        )
        return True

    def retract(self, correction: SignalCorrectionV1) -> bool:
        """Withdraws a signal from the household's facts; False if this retraction was applied
        before. The signal's event id stays known, so a re-sent original is not recorded."""
        if self._correctable(correction) is None:
            return False
        self.trigger_event(
            self.SignalRetracted,
            household=self.pseudonym,
            signal_id=correction.corrects,
            correction_id=correction.correction_id,
            organisation=correction.organisation,
            reason=correction.reason,
            received_at=correction.received_at,
        )
        return True

    def _correctable(self, correction: SignalCorrectionV1) -> SignalFact | None:
        """The signal's current facts; None when this correction was applied before."""
        if str(correction.correction_id) in self.corrections:
            return None
        signal_id = str(correction.corrects)
        if not self.has_signal(correction.corrects) or self.is_retracted(signal_id):
            raise SignalNotCorrectableError("no such signal in this household (any more)")
        return next(f for f in self.facts if f.signal_id == signal_id)

    def on_signal_corrected(self, corrected: Any) -> None:
        """What a SignalCorrected changes (its `apply`)."""
        key = self._note_correction(
            corrected.correction_id, corrected.signal_id, CorrectionKind.CORRECTION
        )
        self._latest_fact = None
        self.signal_types[key] = corrected.signal_type
        changed = {
            "signal_type": corrected.signal_type,
            "severity": corrected.severity,
            "occurred_at": corrected.occurred_at,
        }
        self.facts = [replace(f, **changed) if f.signal_id == key else f for f in self.facts]
        self._keep(added=next(f for f in self.facts if f.signal_id == key), removed=key)

    def on_signal_retracted(self, retracted: Any) -> None:
        """What a SignalRetracted changes (its `apply`)."""
        key = self._note_correction(
            retracted.correction_id, retracted.signal_id, CorrectionKind.RETRACTION
        )
        self._latest_fact = None
        self.facts = [f for f in self.facts if f.signal_id != key]
        self._keep(removed=key)

    def _note_correction(self, correction_id: UUID, signal_id: UUID, kind: CorrectionKind) -> str:
        """Remembers a correction as applied (so it applies once); returns the signal's key."""
        key = str(signal_id)
        self.corrections[str(correction_id)] = AppliedCorrection(key, kind)
        return key
