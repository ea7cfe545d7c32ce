"""The query gate: the one path from a question to an answer.

For every request that reaches a query endpoint it asks the policy decision point, reads only
when permitted, builds the response through the disclosure rules of the decision, and appends
exactly one access-log entry (permit or deny) before anything is returned. If the entry cannot
be written, nothing is returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from contracts.leak_guard import contains_identifier
from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision, PolicyDecisionPoint
from privacy.storage.access_log import AccessLog, EntryKind, LogEntry, Notice
from privacy.storage.restrictions import RestrictionRegister
from services import metrics
from services.errors import Refusal, RefusalKind, invalid_field

Clock = Callable[[], datetime]
RegionLookup = Callable[[str], str | None]


@dataclass(frozen=True)
class Answer:
    """What a permitted read returns, and what the access log says was returned."""

    body: Any
    fields: list[str]
    records: int


class QueryGate:
    """Decides, reads, discloses and logs, in that order, for every query."""

    def __init__(
        self,
        policy: PolicyDecisionPoint,
        access_log: AccessLog,
        household_region: RegionLookup,
        clock: Clock = lambda: datetime.now(UTC),
        restrictions: RestrictionRegister | None = None,
    ) -> None:
        self.policy = policy
        self.access_log = access_log
        self.clock = clock
        # Which VT region is responsible for a household now (the latest recorded move, else
        # the region of its latest signal): decides whether a request crosses regions.
        self.household_region = household_region
        # Restrictions (AVG art. 18) live beside the access log that records them.
        self.restrictions = restrictions or RestrictionRegister(access_log)

    def answer(
        self, request: AccessRequest, endpoint: str, read: Callable[[Decision], Answer]
    ) -> Any:
        """Decides; when permitted, reads; logs exactly one entry; returns the body. Every
        query route (also those of other rooms' routers) answers through here. `read` may
        raise a Refusal after the policy permitted; that is logged as a deny. Whether
        the subject is restricted (AVG art. 18) is looked up here, for every route."""
        if request.subject is not None:
            restricted = self.restrictions.is_restricted(request.subject)
            request = replace(request, subject_restricted=restricted)
        if request.justification and contains_identifier(request.justification):
            decision = refused(
                self.policy.decide(request, self.clock()),
                "justification contains an identifier",
            )
            self.log(request, decision, endpoint, None, keep_justification=False)
            raise invalid_field(
                "justification",
                "must not contain a BSN, address, date of birth, e-mail address or phone number",
            )
        decision = self.policy.decide(request, self.clock())
        if not decision.permitted:
            self.log(request, decision, endpoint, None)
            raise Refusal(RefusalKind.FORBIDDEN, decision.reason)
        try:
            answer = read(decision)
        except Refusal as refusal:
            # The policy permitted the request but the domain refused it (no such alert, a
            # step out of order): still exactly one entry, a deny with the domain's reason.
            self.log(request, refused(decision, refusal.described()), endpoint, None)
            raise
        self.log(request, decision, endpoint, answer)
        return answer.body

    def restricted_for(self, decision: Decision, subjects: Iterable[str]) -> frozenset[str]:
        """Which of these households and persons a permitted decision must withhold: those under
        restriction (AVG art. 18), none when the purpose has `restricted_access`. A list or a
        view of one subject asks here for everything else it would show."""
        assert decision.obligations is not None
        if not decision.obligations.withhold_restricted:
            return frozenset()
        return self.restrictions.restricted_among(subjects)

    def log(
        self,
        request: AccessRequest,
        decision: Decision,
        endpoint: str,
        answer: Answer | None,
        keep_justification: bool = True,
    ) -> LogEntry:
        payload = entry_payload(request, decision, endpoint, answer)
        if not keep_justification:
            payload["justification"] = None
        notice = _notice(request, decision)
        entry = self.access_log.append(EntryKind.ACCESS, payload, notice)
        metrics.gate_decided(
            decision.purpose,
            decision.permitted,
            bool(decision.break_glass or request.break_glass),
            None if notice is None else notice.kind,
        )
        return entry


def entry_payload(
    request: AccessRequest, decision: Decision, endpoint: str, answer: Answer | None
) -> dict[str, Any]:
    actor = request.actor
    assert isinstance(actor, Analyst)
    return {
        "actor": {
            "subject": actor.subject,
            "organisation": actor.organisation,
            "role": str(actor.role),
            "region": str(actor.region),
            "on_behalf_of": actor.on_behalf_of,
        },
        # NEN 7513: the user (actor.subject) and the responsible user they acted for
        "responsible": actor.responsible,
        "endpoint": endpoint,
        "resource": str(request.resource),
        "purpose": decision.purpose,
        "subject": request.subject,
        "subject_region": request.subject_region,
        "justification": request.justification,
        "break_glass": decision.break_glass or request.break_glass,
        "cross_region": decision.cross_region,
        "outcome": "permit" if decision.permitted else "deny",
        "reason": decision.reason,
        "register_version": decision.register_version,
        "fields": answer.fields if answer else [],
        "records": answer.records if answer else 0,
    }


def responsible_of(payload: dict[str, Any]) -> str | None:
    """The responsible user of any entry (NEN 7513): recorded since the field exists; before,
    the user themself (nobody could act for another then)."""
    operator = payload.get("operator")
    if isinstance(operator, dict):
        return operator.get("responsible") or operator.get("name") or operator.get("os_user")
    if isinstance(operator, str):  # a disclosure to a recipient names its operator alone
        return operator
    actor = payload.get("actor") or {}
    return payload.get("responsible") or actor.get("subject")


def _notice(request: AccessRequest, decision: Decision) -> Notice | None:
    """A notice for the household's own region when someone from elsewhere opened it."""
    actor = request.actor
    if not decision.permitted or not decision.cross_region or request.subject is None:
        return None
    assert isinstance(actor, Analyst) and request.subject_region is not None
    return Notice(
        region=request.subject_region,
        household=request.subject,
        kind="break_glass" if decision.break_glass else "cross_region",
        accessor_organisation=actor.organisation,
        accessor_region=str(actor.region),
        purpose=decision.purpose or "",
    )


def refused(decision: Decision, reason: str) -> Decision:
    return Decision(False, reason, decision.purpose, decision.register_version)


def access_kind(decision: Decision) -> str:
    if decision.break_glass:
        return "break_glass"
    return "cross_region" if decision.cross_region else "normal"
