"""The policy decision point: every query asks it before any data is read."""

from __future__ import annotations

from dataclasses import dataclass

from privacy.actors import Actor, Analyst
from privacy.purposes import PurposeRegister


@dataclass(frozen=True)
class Decision:
    """Permit or deny, with the reason a person can read and the register version used."""

    permitted: bool
    reason: str
    purpose: str | None
    register_version: int


class PolicyDecisionPoint:
    """Decides whether an actor may read a subject's data for a stated purpose."""

    def __init__(self, register: PurposeRegister) -> None:
        self._register = register

    def decide(self, actor: Actor, purpose: str | None) -> Decision:
        """The decision for one query; a missing, unknown or ungranted purpose is a denial."""
        version = self._register.version
        if not isinstance(actor, Analyst):
            return Decision(False, "publishers cannot query the radar", purpose, version)
        if not purpose:
            return Decision(False, "no purpose stated", purpose, version)
        granted = self._register.purposes.get(purpose)
        if granted is None:
            return Decision(False, "unknown purpose", None, version)
        if actor.role not in granted.roles:
            return Decision(
                False, f"role '{actor.role}' may not use purpose '{purpose}'", purpose, version
            )
        return Decision(True, f"permitted for purpose '{purpose}'", purpose, version)
