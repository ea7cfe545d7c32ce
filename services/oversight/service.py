"""The oversight use cases: the access log for accountability and audit, the privacy officer's
review of break-glass accesses, and the notices a region gets when another region opened one
of its households. Reading the log is itself an access, decided and logged like any other."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from privacy.storage.access_log import EntryKind, LogEntry
from services.errors import Refusal, RefusalKind
from services.gate import Answer, QueryGate, entry_payload, refused, responsible_of
from services.timelines.views import (
    AccessLogEntryView,
    AccessLogView,
    BreakGlassQueue,
    BreakGlassReview,
    BreakGlassView,
    NoticesView,
    NoticeView,
)


class OversightQueries:
    """The access log, break-glass reviews and notices through the gate."""

    def __init__(self, gate: QueryGate) -> None:
        self.gate = gate

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
            entries = self.gate.access_log.entries(since, until)
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

        result: AccessLogView = self.gate.answer(request, endpoint, read)
        return result

    def break_glass_queue(
        self, actor: Analyst, purpose: str | None, endpoint: str, open_only: bool
    ) -> BreakGlassQueue:
        """Break-glass accesses with their review state, for the privacy officer."""
        request = AccessRequest(actor=actor, resource=Resource.BREAK_GLASS_REVIEWS, purpose=purpose)

        def read(_decision: Decision) -> Answer:
            accesses = break_glass_accesses(self.gate.access_log.entries())
            if open_only:
                accesses = [a for a in accesses if a.review is None]
            return Answer(BreakGlassQueue(accesses=accesses), ["break_glass"], len(accesses))

        result: BreakGlassQueue = self.gate.answer(request, endpoint, read)
        return result

    def review_break_glass(
        self, actor: Analyst, access_seq: int, review: BreakGlassReview, endpoint: str
    ) -> BreakGlassView:
        """Records the privacy officer's review of a break-glass access; the review is the
        request's access-log entry."""
        request = AccessRequest(
            actor=actor, resource=Resource.BREAK_GLASS_REVIEWS, purpose=review.purpose
        )
        decision = self.gate.policy.decide(request, self.gate.clock())
        if not decision.permitted:
            self.gate.log(request, decision, endpoint, None)
            raise Refusal(RefusalKind.FORBIDDEN, decision.reason)
        target = next(
            (
                a
                for a in break_glass_accesses(self.gate.access_log.entries())
                if a.access_seq == access_seq
            ),
            None,
        )
        if target is None or target.review is not None:
            reason = "no such break-glass access" if target is None else "already reviewed"
            self.gate.log(request, refused(decision, reason), endpoint, None)
            raise Refusal(RefusalKind.NOT_FOUND if target is None else RefusalKind.CONFLICT, reason)
        payload = entry_payload(request, decision, endpoint, Answer(None, ["review"], 1))
        payload["review"] = {
            "access_seq": access_seq,
            "outcome": review.outcome,
            "note": review.note,
        }
        entry = self.gate.access_log.append(EntryKind.BREAK_GLASS_REVIEW, payload)
        return target.model_copy(update={"review": _review_of(entry)})

    def notices(self, actor: Analyst, purpose: str | None, endpoint: str) -> NoticesView:
        """Accesses by other regions (bovenregionaal, break-glass) to the actor's region; those
        to a household or person under restriction are left out and only counted."""
        request = AccessRequest(actor=actor, resource=Resource.ACCESS_NOTICES, purpose=purpose)

        def read(decision: Decision) -> Answer:
            found = self.gate.access_log.notices(str(actor.region))
            restricted = self.gate.restricted_for(decision, {row["household"] for row in found})
            rows = [row for row in found if row["household"] not in restricted]
            views = [NoticeView.model_validate(row) for row in rows]
            body = NoticesView(notices=views)
            if len(rows) < len(found):
                body.withheld = len(found) - len(rows)
            return Answer(body, ["notices"], len(views))

        result: NoticesView = self.gate.answer(request, endpoint, read)
        return result


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
            analyst={**e.payload["actor"], "responsible": responsible_of(e.payload)},
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
