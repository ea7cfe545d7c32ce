"""The policy decision point: every query asks it before any data is read.

It answers permit or deny with a reason a person can read, and with the obligations the
response builder must enforce (which sectors' signals, which fields, from when on).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from privacy.actors import VT_ANALYST_ROLES, Actor, Analyst
from privacy.purposes import Purpose, PurposeRegister, RegionScope, Resource, WithheldRule

MIN_JUSTIFICATION_LENGTH = 15
RESTRICTED_REASON = "processing of this subject is restricted (AVG art. 18)"


@dataclass(frozen=True)
class AccessRequest:
    """What an actor asks: a resource, for a purpose, perhaps about one household."""

    actor: Actor
    resource: Resource
    purpose: str | None
    subject: str | None = None  # household pseudonym
    subject_region: str | None = None  # the household's current VT region, when known
    justification: str | None = None
    break_glass: bool = False
    # Whether the subject's processing is restricted (AVG art. 18); the gate looks it up, so
    # that deciding stays a pure function of the request.
    subject_restricted: bool = False


@dataclass(frozen=True)
class Obligations:
    """What the response may contain."""

    sectors: frozenset[str]
    fields: frozenset[str]
    not_before: datetime | None  # signals that occurred earlier are withheld
    # withhold signals recorded at a household, or naming a person, under restriction
    withhold_restricted: bool = True
    # what the response may say about the signals outside `sectors` and `not_before`
    withheld: WithheldRule = WithheldRule.NOTHING
    # values of disclosed v2 fields left out: forms of violence, and roles of persons
    hidden_forms: frozenset[str] = frozenset()
    hidden_roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    """Permit or deny, why, under which register version, and with which obligations."""

    permitted: bool
    reason: str
    purpose: str | None
    register_version: int
    obligations: Obligations | None = None
    cross_region: bool = False
    break_glass: bool = False


class PolicyDecisionPoint:
    """Decides whether an actor may read a resource for a stated purpose."""

    def __init__(self, register: PurposeRegister) -> None:
        self.register = register

    def decide(self, request: AccessRequest, now: datetime) -> Decision:
        """The decision for one request; anything not explicitly allowed is denied."""
        actor = request.actor
        if not isinstance(actor, Analyst):
            return self._deny("publishers cannot query the radar", None)
        if not request.purpose:
            return self._deny("no purpose stated", None)
        purpose = self.register.purposes.get(request.purpose)
        if purpose is None:
            return self._deny("unknown purpose", None)
        if request.resource not in purpose.resources:
            return self._deny(
                f"purpose '{request.purpose}' does not cover {request.resource}", request.purpose
            )
        if (
            request.subject_restricted
            and not purpose.restricted_access
            and request.resource != Resource.RESTRICTIONS  # placing or lifting the restriction
        ):
            return self._deny(RESTRICTED_REASON, request.purpose)
        if request.break_glass:
            return self._break_glass(request, purpose, actor)
        if actor.role not in purpose.roles:
            return self._deny(
                f"role '{actor.role}' may not use purpose '{request.purpose}'", request.purpose
            )
        cross_region = (
            purpose.region_scope == RegionScope.OWN
            and request.subject_region is not None
            and request.subject_region != str(actor.region)
        )
        if cross_region and not _justified(request.justification):
            return self._deny(
                f"household belongs to region {request.subject_region}; access across regions "
                "(bovenregionaal) needs a written justification",
                request.purpose,
            )
        return Decision(
            permitted=True,
            reason=f"permitted for purpose '{request.purpose}'"
            + (" across regions (bovenregionaal)" if cross_region else ""),
            purpose=request.purpose,
            register_version=self.register.version,
            obligations=purpose_obligations(purpose, now - timedelta(days=purpose.lookback_days)),
            cross_region=cross_region,
        )

    def _break_glass(self, request: AccessRequest, purpose: Purpose, actor: Analyst) -> Decision:
        """Acute danger: a Veilig Thuis analyst opens a household in any region, over any
        period, with a justification.

        Break-glass lifts the region and look-back limits only: the analyst must still hold a
        role the purpose admits, and its sector and field limits still apply (otherwise a
        triage analyst could see what only the confidential doctor may, by naming that
        doctor's purpose). The access is marked for review.
        """
        if actor.role not in VT_ANALYST_ROLES:
            return self._deny(f"role '{actor.role}' may not break the glass", request.purpose)
        if actor.role not in purpose.roles:
            return self._deny(
                f"role '{actor.role}' may not use purpose '{request.purpose}', "
                "not even with break-glass",
                request.purpose,
            )
        if not _justified(request.justification):
            return self._deny("break-glass needs a written justification", request.purpose)
        cross_region = request.subject_region not in (None, str(actor.region))
        return Decision(
            permitted=True,
            reason=f"break-glass for purpose '{request.purpose}'; queued for review",
            purpose=request.purpose,
            register_version=self.register.version,
            obligations=purpose_obligations(purpose, None),
            cross_region=cross_region,
            break_glass=True,
        )

    def _deny(self, reason: str, purpose: str | None) -> Decision:
        return Decision(False, reason, purpose, self.register.version)


def _justified(justification: str | None) -> bool:
    return justification is not None and len(justification.strip()) >= MIN_JUSTIFICATION_LENGTH


def purpose_obligations(purpose: Purpose, not_before: datetime | None) -> Obligations:
    """What a response under `purpose` may contain: the one place that reads a purpose's
    rules, so an audit replay shows exactly what the query API showed."""
    return Obligations(
        sectors=frozenset(str(s) for s in purpose.sectors),
        fields=purpose.fields,
        not_before=not_before,
        withhold_restricted=not purpose.restricted_access,
        withheld=purpose.withheld_rule,
        hidden_forms=frozenset(str(f) for f in purpose.hidden_forms),
        hidden_roles=frozenset(str(r) for r in purpose.hidden_roles),
    )
