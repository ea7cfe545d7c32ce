"""How the household's typed state is written in a snapshot: one JSON transcoding per value type.

A snapshot stores the aggregate's attributes as they are (the library's `Snapshot.take`), so each
frozen dataclass the household holds needs a transcoding for the library's JSON transcoder. The
names are stored with the data: never rename one. Tuples are written as JSON lists and turned
back into tuples here, so a value read back equals the value written.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from contracts.correction_v1 import CorrectionKind
from radar.household_state import AppliedCorrection, Move
from radar.risk import Assessment, Contribution, Factors, PersonFact, SignalFact


class SignalFactAsList(Transcoding):
    """Positional, moments as ISO text (a snapshot holds one per signal); snapshots written
    before that hold a dict of the same values, and still read. A signal.v2 fact that names
    forms of violence or persons' roles and ages has two more items, [forms] and
    [[pseudonym, [roles], age], ...]; one without them is the eight items it always was."""

    type = SignalFact
    name = "radar_signal_fact"

    def encode(self, obj: SignalFact) -> list[Any]:
        encoded: list[Any] = [
            obj.signal_id,
            obj.sector,
            obj.signal_type,
            obj.severity,
            obj.occurred_at.isoformat(),
            obj.received_at.isoformat(),
            obj.region,
            list(obj.children),
        ]
        if obj.forms or obj.persons:
            encoded.append(list(obj.forms))
            encoded.append([[p.pseudonym, list(p.roles), p.age] for p in obj.persons])
        return encoded

    def decode(self, data: dict[str, Any] | list[Any]) -> SignalFact:
        if isinstance(data, dict):
            return SignalFact.from_record(data)
        signal_id, sector, kind, severity, occurred_at, received_at, region, children = data[:8]
        forms, persons = data[8:] or ([], [])
        return SignalFact(
            signal_id,
            sector,
            kind,
            severity,
            datetime.fromisoformat(occurred_at),
            datetime.fromisoformat(received_at),
            region,
            tuple(children),
            tuple(forms),
            tuple(PersonFact(p, tuple(roles), age) for p, roles, age in persons),
        )


class ContributionAsDict(Transcoding):
    type = Contribution
    name = "radar_contribution"

    def encode(self, obj: Contribution) -> dict[str, Any]:
        return obj.record()

    def decode(self, data: dict[str, Any]) -> Contribution:
        return Contribution.from_record(data)


class FactorsAsList(Transcoding):
    """Positional, with the moment as ISO text: a snapshot holds one per signal."""

    type = Factors
    name = "radar_factors"

    def encode(self, obj: Factors) -> list[Any]:
        values = [getattr(obj, name) for name in _FACTOR_FIELDS]
        values[_FACTOR_FIELDS.index("occurred_at")] = obj.occurred_at.isoformat()
        return values

    def decode(self, data: list[Any]) -> Factors:
        values = dict(zip(_FACTOR_FIELDS[: len(data)], data, strict=True))  # older: fewer
        values["occurred_at"] = datetime.fromisoformat(values["occurred_at"])
        return Factors(**values)


_FACTOR_FIELDS = [f.name for f in fields(Factors)]  # stored in this order: append only


class AssessmentAsDict(Transcoding):
    type = Assessment
    name = "radar_assessment"

    def encode(self, obj: Assessment) -> dict[str, Any]:
        return {
            "score": obj.score,
            "as_of": obj.as_of,
            "model_version": obj.model_version,
            "contributions": list(obj.contributions),
            "children_present": obj.children_present,
            "child_scores": obj.child_scores,
        }

    def decode(self, data: dict[str, Any]) -> Assessment:
        return Assessment(
            score=Decimal(data["score"]),
            as_of=data["as_of"],
            model_version=data["model_version"],
            contributions=tuple(data["contributions"]),
            children_present=data["children_present"],
            child_scores={k: Decimal(v) for k, v in data["child_scores"].items()},
        )


class MoveAsDict(Transcoding):
    type = Move
    name = "radar_move"

    def encode(self, obj: Move) -> dict[str, Any]:
        return {"municipality": obj.municipality, "region": obj.region, "moved_at": obj.moved_at}

    def decode(self, data: dict[str, Any]) -> Move:
        return Move(data["municipality"], data["region"], data["moved_at"])


class AppliedCorrectionAsDict(Transcoding):
    type = AppliedCorrection
    name = "radar_applied_correction"

    def encode(self, obj: AppliedCorrection) -> dict[str, str]:
        return {"signal_id": obj.signal_id, "kind": str(obj.kind)}

    def decode(self, data: dict[str, str]) -> AppliedCorrection:
        return AppliedCorrection(data["signal_id"], CorrectionKind(data["kind"]))


def register_state_transcodings(transcoder: JSONTranscoder) -> None:
    """Registers the transcodings of every value type the household's state holds."""
    for transcoding in (
        SignalFactAsList(),
        ContributionAsDict(),
        FactorsAsList(),
        AssessmentAsDict(),
        MoveAsDict(),
        AppliedCorrectionAsDict(),
    ):
        transcoder.register(transcoding)
