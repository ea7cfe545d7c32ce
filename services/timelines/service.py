"""The timeline use cases: a household's signals, and one person's households and signals over
time, each read only after the gate's decision and disclosed as far as it allows."""

from __future__ import annotations

from datetime import datetime

from privacy.actors import Analyst
from privacy.disclosure import disclose, disclosure
from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from privacy.restriction import all_subjects, withholds
from privacy.withholding import withhold
from radar.timeline import TimelineEntry
from services.gate import Answer, QueryGate, access_kind
from services.timelines.answers import ShownSignals, timeline_json
from services.timelines.store import TimelineStore
from services.timelines.views import (
    MembershipView,
    PersonTimelineView,
    SignalView,
    TimelineView,
)


class TimelineQueries:
    """Household and person timelines through the gate."""

    def __init__(self, gate: QueryGate, timelines: TimelineStore) -> None:
        self.gate = gate
        self.timelines = timelines
        self.shown = ShownSignals()

    def timeline_json(
        self,
        actor: Analyst,
        household: str,
        purpose: str | None,
        endpoint: str,
        justification: str | None = None,
        break_glass: bool = False,
    ) -> bytes:
        """A household's timeline as far as the decision allows, as the JSON of a
        TimelineView (answers.py: each shown signal encoded once)."""
        request = self.household_request(actor, household, purpose, justification, break_glass)

        def read(decision: Decision) -> Answer:
            return self.household_answer(decision, household, purpose)

        result: bytes = self.gate.answer(request, endpoint, read)
        return result

    def household_request(
        self,
        actor: Analyst,
        household: str,
        purpose: str | None,
        justification: str | None,
        break_glass: bool,
    ) -> AccessRequest:
        """The request to read a household's timeline, from the region responsible for it now."""
        return AccessRequest(
            actor=actor,
            resource=Resource.HOUSEHOLD_TIMELINE,
            purpose=purpose,
            subject=household,
            subject_region=self.gate.household_region(household),
            justification=justification,
            break_glass=break_glass,
        )

    def household_answer(self, decision: Decision, household: str, purpose: str | None) -> Answer:
        """A household's timeline under a permitted decision, as the JSON of a TimelineView:
        the API's route and the pages (which show it beside the risk, one decision) read here."""
        obligations = decision.obligations
        assert obligations is not None
        # earlier addresses tell where the members lived: only with persons, else not at
        # all (not even counted as withheld)
        slots = self.shown.of(
            self.timelines.household_shown(
                household, earlier_addresses="persons" in obligations.fields
            )
        )
        restricted = self.gate.restricted_for(decision, {s for x in slots for s in x.subjects})
        split = withhold(
            obligations,
            slots,
            lambda slot: not restricted.isdisjoint(slot.subjects),
            lambda slot: slot.record,
        )
        fields = sorted(obligations.fields)
        view = TimelineView(
            household=household,
            purpose=purpose or "",
            access=access_kind(decision),
            fields=fields,
            signals=[],
            withheld_rule=str(obligations.withheld),
        )
        if split.count is not None:
            view.withheld_by_purpose = split.count
        if split.restricted:
            view.withheld = len(split.restricted)
        disclosed = disclosure(obligations)  # withhold let through what disclose would
        body = timeline_json(view, [slot.json(disclosed) for slot in split.shown])
        return Answer(body, fields, len(split.shown))

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
            subject_region=None if latest is None else self.gate.household_region(latest),
            justification=justification,
            break_glass=break_glass,
        )

        def read(decision: Decision) -> Answer:
            obligations = decision.obligations
            assert obligations is not None
            found = [(e, e.record()) for e in self.timelines.person_signals(person)]
            restricted = self.gate.restricted_for(decision, all_subjects(r for _e, r in found))
            split = withhold(
                obligations, found, lambda pair: withholds(restricted, pair[1]), lambda p: p[1]
            )
            visible = split.shown
            shown = disclose(obligations, (r for _e, r in visible))
            fields = sorted(obligations.fields)
            view = PersonTimelineView(
                person=person,
                purpose=purpose or "",
                access=access_kind(decision),
                fields=fields,
                # where the person lived tells as much as `persons` does
                memberships=(
                    self._memberships(person, [e for e, _r in visible])
                    if "persons" in obligations.fields
                    else []
                ),
                signals=[SignalView.model_validate(s) for s in shown],
                withheld_rule=str(obligations.withheld),
            )
            if split.count is not None:
                view.withheld_by_purpose = split.count
            if split.restricted:
                view.withheld = len(split.restricted)
            return Answer(view, fields, len(shown))

        result: PersonTimelineView = self.gate.answer(request, endpoint, read)
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
                region=self.gate.household_region(m.household),
                since=first[m.household],
                until=m.until,
            )
            for m in self.timelines.memberships(person)
            if m.household in first
        ]
        return sorted(views, key=lambda v: (v.since, v.household))
