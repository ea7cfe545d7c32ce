"""The query gate: the one path from a question to an answer.

For every request that reaches a query endpoint it asks the policy decision point, reads only
when permitted, builds the response through the disclosure rules of the decision, and appends
exactly one access-log entry (permit or deny) before anything is returned. If the entry cannot
be written, nothing is returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from contracts.leak_guard import contains_identifier
from privacy.actors import Analyst
from privacy.disclosure import disclose, shows
from privacy.policy import AccessRequest, Decision, PolicyDecisionPoint
from privacy.purposes import Resource
from privacy.storage.access_log import AccessLog, EntryKind, LogEntry, Notice
from privacy.storage.restrictions import RestrictionRegister
from radar.timeline import TimelineEntry
from services.errors import Refusal, RefusalKind, invalid_field
from services.timelines.store import TimelineStore
from services.timelines.views import (
    AccessLogEntryView,
    AccessLogView,
    BreakGlassQueue,
    BreakGlassReview,
    BreakGlassView,
    MembershipView,
    NoticesView,
    NoticeView,
    PersonTimelineView,
    SignalView,
    TimelineView,
)

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
        timelines: TimelineStore,
        clock: Clock = lambda: datetime.now(UTC),
        household_region: RegionLookup | None = None,
        restrictions: RestrictionRegister | None = None,
    ) -> None:
        self.policy = policy
        self.access_log = access_log
        self.timelines = timelines
        self.clock = clock
        # Which VT region is responsible for a household now: by default the region of its
        # latest signal; the radar's worklist knows better once a move was recorded.
        self.household_region = household_region or timelines.household_region
        # Restrictions (AVG art. 18) live beside the access log that records them.
        self.restrictions = restrictions or RestrictionRegister(access_log)

    def timeline(
        self,
        actor: Analyst,
        household: str,
        purpose: str | None,
        endpoint: str,
        justification: str | None = None,
        break_glass: bool = False,
    ) -> TimelineView:
        """A household's timeline as far as the decision allows."""
        request = AccessRequest(
            actor=actor,
            resource=Resource.HOUSEHOLD_TIMELINE,
            purpose=purpose,
            subject=household,
            subject_region=self.household_region(household),
            justification=justification,
            break_glass=break_glass,
        )

        def read(decision: Decision) -> Answer:
            assert decision.obligations is not None
            records = self.timelines.household_records(household)
            visible = self._without_restricted_persons(records, decision)
            shown = disclose(decision.obligations, visible)
            fields = sorted(decision.obligations.fields)
            view = TimelineView(
                household=household,
                purpose=purpose or "",
                access=_access_kind(decision),
                fields=fields,
                signals=[SignalView.model_validate(s) for s in shown],
            )
            if len(visible) < len(records):
                view.withheld = len(records) - len(visible)
            return Answer(view, fields, len(shown))

        result: TimelineView = self.answer(request, endpoint, read)
        return result

    def person_timeline(
        self,
        actor: Analyst,
        person: str,
        purpose: str | None,
        endpoint: str,
        justification: str | None = None,
        break_glass: bool = False,
    ) -> PersonTimelineView:
        """One person's households over time and every signal naming them, at any household
        and in any region, as far as the decision allows. The person belongs to the region of
        the household where they were seen most recently: that region needs no justification
        and gets the notice when another region opens the person."""
        latest = self.timelines.latest_household(person)
        request = AccessRequest(
            actor=actor,
            resource=Resource.PERSON_TIMELINE,
            purpose=purpose,
            subject=person,
            subject_region=None if latest is None else self.household_region(latest),
            justification=justification,
            break_glass=break_glass,
        )

        def read(decision: Decision) -> Answer:
            obligations = decision.obligations
            assert obligations is not None
            records = [(e, e.record()) for e in self.timelines.person_signals(person)]
            visible = [(e, r) for e, r in records if shows(obligations, r)]
            shown = disclose(obligations, (r for _e, r in visible))
            fields = sorted(obligations.fields)
            view = PersonTimelineView(
                person=person,
                purpose=purpose or "",
                access=_access_kind(decision),
                fields=fields,
                # where the person lived tells as much as `persons` does
                memberships=(
                    self._memberships(person, [e for e, _r in visible])
                    if "persons" in obligations.fields
                    else []
                ),
                signals=[SignalView.model_validate(s) for s in shown],
            )
            return Answer(view, fields, len(shown))

        result: PersonTimelineView = self.answer(request, endpoint, read)
        return result

    def _memberships(self, person: str, shown: list[TimelineEntry]) -> list[MembershipView]:
        """The person's memberships of households where a shown signal names them, each from
        the first shown signal there: a household known only from withheld signals, or the
        date of one, is not hinted at."""
        first: dict[str, datetime] = {}
        for entry in shown:  # in occurred-at order
            first.setdefault(entry.household, entry.occurred_at)
        views = [
            MembershipView(
                household=m.household,
                region=self.household_region(m.household),
                since=first[m.household],
                until=m.until,
            )
            for m in self.timelines.memberships(person)
            if m.household in first
        ]
        return sorted(views, key=lambda v: (v.since, v.household))

    def _without_restricted_persons(
        self, records: list[dict[str, Any]], decision: Decision
    ) -> list[dict[str, Any]]:
        """The records that name no person under restriction, unless the purpose may see them."""
        assert decision.obligations is not None
        if not decision.obligations.withhold_restricted:
            return records
        named = {p["pseudonym"] for r in records for p in r["persons"]}
        restricted = self.restrictions.restricted_among(named)
        return [r for r in records if not any(p["pseudonym"] in restricted for p in r["persons"])]

    def access_log_entries(
        self,
        actor: Analyst,
        purpose: str | None,
        endpoint: str,
        since: datetime | None,
        until: datetime | None,
    ) -> AccessLogView:
        """Access-log entries in a time window, for accountability or audit."""
        request = AccessRequest(actor=actor, resource=Resource.ACCESS_LOG, purpose=purpose)

        def read(_decision: Decision) -> Answer:
            entries = self.access_log.entries(since, until)
            views = [
                AccessLogEntryView(
                    seq=e.seq,
                    recorded_at=e.recorded_at,
                    kind=str(e.kind),
                    payload=e.payload,
                    entry_hash=e.entry_hash,
                )
                for e in entries
            ]
            return Answer(AccessLogView(entries=views), ["access_log"], len(views))

        result: AccessLogView = self.answer(request, endpoint, read)
        return result

    def break_glass_queue(
        self, actor: Analyst, purpose: str | None, endpoint: str, open_only: bool
    ) -> BreakGlassQueue:
        """Break-glass accesses with their review state, for the privacy officer."""
        request = AccessRequest(actor=actor, resource=Resource.BREAK_GLASS_REVIEWS, purpose=purpose)

        def read(_decision: Decision) -> Answer:
            accesses = break_glass_accesses(self.access_log.entries())
            if open_only:
                accesses = [a for a in accesses if a.review is None]
            return Answer(BreakGlassQueue(accesses=accesses), ["break_glass"], len(accesses))

        result: BreakGlassQueue = self.answer(request, endpoint, read)
        return result

    def review_break_glass(
        self, actor: Analyst, access_seq: int, review: BreakGlassReview, endpoint: str
    ) -> BreakGlassView:
        """Records the privacy officer's review of a break-glass access; the review is the
        request's access-log entry."""
        request = AccessRequest(
            actor=actor, resource=Resource.BREAK_GLASS_REVIEWS, purpose=review.purpose
        )
        decision = self.policy.decide(request, self.clock())
        if not decision.permitted:
            self._log(request, decision, endpoint, None)
            raise Refusal(RefusalKind.FORBIDDEN, decision.reason)
        target = next(
            (
                a
                for a in break_glass_accesses(self.access_log.entries())
                if a.access_seq == access_seq
            ),
            None,
        )
        if target is None or target.review is not None:
            reason = "no such break-glass access" if target is None else "already reviewed"
            self._log(request, _refused(decision, reason), endpoint, None)
            raise Refusal(RefusalKind.NOT_FOUND if target is None else RefusalKind.CONFLICT, reason)
        payload = _payload(request, decision, endpoint, Answer(None, ["review"], 1))
        payload["review"] = {
            "access_seq": access_seq,
            "outcome": review.outcome,
            "note": review.note,
        }
        entry = self.access_log.append(EntryKind.BREAK_GLASS_REVIEW, payload)
        return target.model_copy(update={"review": _review_of(entry)})

    def notices(self, actor: Analyst, purpose: str | None, endpoint: str) -> NoticesView:
        """Accesses by other regions (bovenregionaal, break-glass) to the actor's region."""
        request = AccessRequest(actor=actor, resource=Resource.ACCESS_NOTICES, purpose=purpose)

        def read(_decision: Decision) -> Answer:
            rows = self.access_log.notices(str(actor.region))
            views = [NoticeView.model_validate(row) for row in rows]
            return Answer(NoticesView(notices=views), ["notices"], len(views))

        result: NoticesView = self.answer(request, endpoint, read)
        return result

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
            decision = _refused(
                self.policy.decide(request, self.clock()),
                "justification contains an identifier",
            )
            self._log(request, decision, endpoint, None, keep_justification=False)
            raise invalid_field(
                "justification",
                "must not contain a BSN, address, date of birth, e-mail address or phone number",
            )
        decision = self.policy.decide(request, self.clock())
        if not decision.permitted:
            self._log(request, decision, endpoint, None)
            raise Refusal(RefusalKind.FORBIDDEN, decision.reason)
        try:
            answer = read(decision)
        except Refusal as refusal:
            # The policy permitted the request but the domain refused it (no such alert, a
            # step out of order): still exactly one entry, a deny with the domain's reason.
            self._log(request, _refused(decision, refusal.described()), endpoint, None)
            raise
        self._log(request, decision, endpoint, answer)
        return answer.body

    def _log(
        self,
        request: AccessRequest,
        decision: Decision,
        endpoint: str,
        answer: Answer | None,
        keep_justification: bool = True,
    ) -> LogEntry:
        payload = _payload(request, decision, endpoint, answer)
        if not keep_justification:
            payload["justification"] = None
        return self.access_log.append(EntryKind.ACCESS, payload, _notice(request, decision))


def _payload(
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
        },
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


def _refused(decision: Decision, reason: str) -> Decision:
    return Decision(False, reason, decision.purpose, decision.register_version)


def _access_kind(decision: Decision) -> str:
    if decision.break_glass:
        return "break_glass"
    return "cross_region" if decision.cross_region else "normal"


def break_glass_accesses(entries: list[LogEntry]) -> list[BreakGlassView]:
    """Permitted break-glass accesses in the log, each with its review if one was recorded."""
    reviews = {
        e.payload["review"]["access_seq"]: e
        for e in entries
        if e.kind == EntryKind.BREAK_GLASS_REVIEW
    }
    return [
        BreakGlassView(
            access_seq=e.seq,
            recorded_at=e.recorded_at,
            analyst=e.payload["actor"],
            household=e.payload["subject"],
            purpose=e.payload["purpose"],
            justification=e.payload["justification"],
            review=_review_of(reviews[e.seq]) if e.seq in reviews else None,
        )
        for e in entries
        if e.kind == EntryKind.ACCESS
        and e.payload["break_glass"]
        and e.payload["outcome"] == "permit"
    ]


def _review_of(entry: LogEntry) -> dict[str, Any]:
    return {
        "outcome": entry.payload["review"]["outcome"],
        "note": entry.payload["review"]["note"],
        "reviewer": entry.payload["actor"]["subject"],
        "recorded_at": entry.recorded_at.isoformat(),
        "review_seq": entry.seq,
    }
