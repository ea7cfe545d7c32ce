"""How snapshots of the Household aggregate, and its SignalRecorded events, written by earlier
versions read (eventsourcing's `upcast_vN_vM` convention, looked up on the class: a mixin of it).

Version 2 keeps each signal's facts for the risk model; version 3 when each person was first
seen, and the re-keying links; version 4 holds them as typed values (SignalFact, Move,
AppliedCorrection, Assessment) instead of plain dicts. A snapshot older than version 3 lacks
facts or first sightings: its upcast sets `replay_required`, and the ledger then replays the
household's events instead of using the snapshot. Version 5 holds the latest score without its
explanation and each signal's factors (`explained`).
"""

from __future__ import annotations

from typing import Any

from contracts.correction_v1 import CorrectionKind
from radar.household_score import assessment_of, upcast_score_state
from radar.household_state import AppliedCorrection, Move, upcast_person_record
from radar.risk import SignalFact


class HouseholdSnapshotUpcasts:
    """The snapshot upcasters, oldest first."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state.update(
            facts=[],
            moves=[],
            responsible_region=state.get("region"),
            latest_score=None,
            has_case=False,
            replay_required=True,
        )

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state.update(first_seen={}, pseudonym_links={}, corrections={}, replay_required=True)

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        if state.get("replay_required"):  # what an older version held is replayed anyway
            state.update(facts=[], moves=[], corrections={}, latest_score=None)
            return
        state["facts"] = [SignalFact.from_record(f) for f in state["facts"]]
        state["moves"] = [
            Move(m["municipality"], m["region"], m["moved_at"]) for m in state["moves"]
        ]
        state["corrections"] = {
            key: AppliedCorrection(c["signal_id"], CorrectionKind(c["kind"]))
            for key, c in state["corrections"].items()
        }
        score = state["latest_score"]
        state["latest_score"] = None if score is None else assessment_of(**score)

    @staticmethod
    def upcast_v4_v5(state: dict[str, Any]) -> None:
        upcast_score_state(state)


class SignalRecordedUpcasts:
    """Household.SignalRecorded's upcasters: version 2 adds signal.v2's facts (a version 1
    event reads as a v1 signal upcast: no form, one role, no age), version 3 who reported to
    Veilig Thuis (an earlier event did not say: None, "not known" in the CBS tables), version 4
    the OM's decision (an earlier event did not say: None)."""

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["forms_of_violence"] = []
        for person in state["persons"]:
            upcast_person_record(person)

    @staticmethod
    def upcast_v2_v3(state: dict[str, Any]) -> None:
        state["reported_by"] = None

    @staticmethod
    def upcast_v3_v4(state: dict[str, Any]) -> None:
        state["prosecution"] = None  # version 4: no OM decision said
