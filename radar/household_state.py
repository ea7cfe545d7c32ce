"""The values a household's state and events are made of (moves, applied corrections, the
persons and key links a signal carries) and the refusals of its commands; apart from the
aggregate, whose module must hold its event classes (their qualified names are stored topics).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from contracts.correction_v1 import CorrectionKind


class MembershipError(ValueError):
    """A departure the household's history does not allow; names the field at fault."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


class SignalNotCorrectableError(LookupError):
    """The household never recorded the signal a correction names, or it was retracted: the
    correction applies nowhere."""


class PersonRecord(TypedDict):
    """A person a signal names, as its SignalRecorded event stores them."""

    pseudonym: str
    role: str


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
