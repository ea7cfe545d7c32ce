"""The values a household's state and events are made of (moves, applied corrections, the
persons and key links a signal carries) and the refusals of its commands; apart from the
aggregate, whose module must hold its event classes (their qualified names are stored topics).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from contracts.correction_v1 import CorrectionKind
from contracts.signal_v1 import SignalEventV1
from contracts.signal_v2 import SignalEventV2
from contracts.vocabulary import PersonRole

CHILD_ROLE = str(PersonRole.CHILD)
PARENT_OR_CARER_ROLE = str(PersonRole.PARENT_OR_CARER)
OTHER_ADULT_ROLE = str(PersonRole.OTHER_ADULT)


class MembershipError(ValueError):
    """A departure the household's history does not allow; names the field at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


class SignalNotCorrectableError(LookupError):
    """The household never recorded the signal a correction names, or it was retracted: the
    correction applies nowhere."""


class PersonRecord(TypedDict):
    """A person a signal names, as its SignalRecorded event stores them (version 2: signal.v2's
    roles, age, unborn child and identification; a v1 signal's person has its one role, no age).

    `role` is the person's place in the household (child, parent_or_carer, other_adult), what
    membership, the timeline and model 1 read; `roles` is everything the signal said."""

    pseudonym: str
    role: str
    roles: list[str]
    age: int | None
    unborn_child_of: str | None
    local_pseudonym: str | None


def household_role(roles: Iterable[str]) -> str:
    """A person's place in the household from signal.v2's roles: child, else parent or carer,
    else another adult (a partner, a witness, an informal carer)."""
    named = set(roles)
    for role in (CHILD_ROLE, PARENT_OR_CARER_ROLE):
        if role in named:
            return role
    return OTHER_ADULT_ROLE


def reported_by(signal: SignalEventV1 | SignalEventV2) -> str | None:
    """Who reported to Veilig Thuis, as SignalRecorded stores it: None when not said (always
    for a v1 signal, which cannot say it)."""
    said = signal.reported_by if isinstance(signal, SignalEventV2) else None
    return None if said is None else str(said)


def prosecution_of(signal: SignalEventV1 | SignalEventV2) -> dict[str, str | None] | None:
    """The OM's decision as SignalRecorded stores it: its outcome and the referral it decides
    (None when the signal did not say; always for a v1 signal, which cannot)."""
    said = signal.prosecution if isinstance(signal, SignalEventV2) else None
    if said is None:
        return None
    referral = None if said.referral_id is None else str(said.referral_id)
    return {"outcome": str(said.outcome), "referral_id": referral}


def person_records(signal: SignalEventV1 | SignalEventV2) -> list[PersonRecord]:
    """The persons of a signal as SignalRecorded stores them; a v1 signal's as its upcast to
    v2 would have them (contracts.upcast_v1_v2), without building the upcast."""
    if isinstance(signal, SignalEventV1):
        return [
            PersonRecord(
                pseudonym=p.pseudonym,
                role=str(p.role),
                roles=[str(p.role)],
                age=None,
                unborn_child_of=None,
                local_pseudonym=None,
            )
            for p in signal.persons
        ]
    return [
        PersonRecord(
            pseudonym=p.pseudonym,
            role=household_role(str(r) for r in p.roles),
            roles=[str(r) for r in p.roles],
            age=p.age,
            unborn_child_of=p.unborn_child_of,
            local_pseudonym=p.local_pseudonym,
        )
        for p in signal.persons
    ]


def upcast_person_record(person: dict[str, Any]) -> None:
    """A v1 SignalRecorded's person as version 2 has it: its one role, nothing more known."""
    person.setdefault("roles", [person["role"]])
    person.setdefault("age", None)
    person.setdefault("unborn_child_of", None)
    person.setdefault("local_pseudonym", None)


class KeyLink(TypedDict):
    """Re-keying: a pseudonym made with a newer key version and the one first known."""

    pseudonym: str
    known_as: str


@dataclass(frozen=True)
class Move:
    """A move an analyst recorded: the household lives in `municipality` from `moved_at`."""

    municipality: str
    region: str
    moved_at: datetime


@dataclass(frozen=True)
class AppliedCorrection:
    """A correction or retraction applied to one signal (kept so that each applies once)."""

    signal_id: str
    kind: CorrectionKind
