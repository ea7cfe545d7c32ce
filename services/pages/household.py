"""The household page's one read: the timeline, the score with its explanation, the alerts and
safety conditions, and the chart of the score over time, all under one decision of the gate and
so one access-log entry for the page (the API answers each of them apart, one entry each)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from privacy.actors import Analyst
from privacy.policy import Decision
from radar.risk import SignalFact
from radar.risk_in_force import assess_any
from radar.score_series import score_series
from services.casework.service import Casework
from services.casework.views import HouseholdRiskView
from services.gate import Answer
from services.pages.chart import Chart, SignalMark, Span, chart, day_start
from services.timelines.service import TimelineQueries

LEAD_IN = timedelta(days=7)
"""The chart starts a week before the first signal it shows, so the first step is visible."""


@dataclass(frozen=True)
class HouseholdPage:
    """What the household page shows."""

    timeline: dict[str, Any]
    risk: HouseholdRiskView
    plans: list[dict[str, Any]]
    chart: Chart
    assessed: dict[str, str]
    """The decision of each report assessed (veiligheidsbeoordeling), by report id."""
    protected: frozenset[str] = frozenset()
    """The ids of the shown signals whose reporter Veilig Thuis protects (the organisation's)."""
    referred: dict[str, list[str]] = field(default_factory=dict)
    """To whom each report's suspected offence was referred (radar.case_referral), by id."""


class HouseholdPages:
    """Reads a household for a page through the gate, once."""

    def __init__(self, casework: Casework, timelines: TimelineQueries) -> None:
        self.casework = casework
        self.timelines = timelines

    def open(
        self,
        actor: Analyst,
        household: str,
        purpose: str | None,
        endpoint: str,
        justification: str | None = None,
        break_glass: bool = False,
    ) -> HouseholdPage:
        """The page, or the gate's Refusal (a justification asked for, a purpose refused)."""
        gate = self.casework.gate
        request = self.timelines.household_request(
            actor, household, purpose, justification, break_glass
        )

        def read(decision: Decision) -> Answer:
            timeline = self.timelines.household_answer(decision, household, purpose)
            risk = self.casework.household_risk_answer(decision, household, purpose)
            plans = self._plans(household)
            shown = json.loads(timeline.body)
            page = HouseholdPage(
                timeline=shown,
                risk=risk.body,
                plans=plans,
                chart=self._chart(decision, household, risk.body, plans),
                assessed=self._assessed(household),
                protected=self._protected(household, shown["signals"]),
                referred=self._referred(household),
            )
            fields = sorted({*timeline.fields, *risk.fields, "safety_conditions"})
            return Answer(page, fields, timeline.records + risk.records)

        page: HouseholdPage = gate.answer(request, endpoint, read)
        return page

    def _plans(self, household: str) -> list[dict[str, Any]]:
        case = self.casework.ledger.case(household) if self._known(household) else None
        if case is None:
            return []
        return [
            {
                "plan_id": plan.plan_id,
                "conditions": plan.conditions,
                "starts_on": plan.starts_on,
                "ends_on": plan.ends_on,
                "check_dates": plan.check_dates,
                "assessed": sorted(plan.assessments),
                "closed": plan.outcome is not None,
            }
            for plan in case.plans.values()
        ]

    def _assessed(self, household: str) -> dict[str, str]:
        case = self.casework.ledger.case(household) if self._known(household) else None
        if case is None:
            return {}
        return {a.report.report_id: str(a.decision) for a in case.assessments.values()}

    def _protected(self, household: str, signals: list[dict[str, Any]]) -> frozenset[str]:
        """The shown signals of an organisation Veilig Thuis protects in this household (a
        member's signal from another household is that household's)."""
        if not self._known(household):
            return frozenset()
        organisations = self.casework.ledger.household(household).protected_sources
        return frozenset(
            s["signal_id"]
            for s in signals
            if s.get("organisation") in organisations and not s.get("via")
        )

    def _referred(self, household: str) -> dict[str, list[str]]:
        case = self.casework.ledger.case(household) if self._known(household) else None
        found: dict[str, list[str]] = {}
        if case is None:
            return found
        for referral in case.referrals:
            report = case.assessments[referral.assessment_id].report.report_id
            found.setdefault(report, []).append(referral.recipient)
        return found

    def _known(self, household: str) -> bool:
        return bool(self.casework.facts(household))

    def _chart(
        self,
        decision: Decision,
        household: str,
        risk: HouseholdRiskView,
        plans: list[dict[str, Any]],
    ) -> Chart:
        """The score of the signals the purpose sees, over time, as today's knowledge puts it:
        at each moment the score of the signals that had occurred by then (a signal reported
        late still shows where it happened). Only those the purpose sees: under `weight` the
        whole score would step up at a withheld signal and so tell its date."""
        assert decision.obligations is not None
        now, model = self.casework.now(), self.casework.model()
        restricted = self.casework.restricted_signals(decision, [household])
        weighed = self.casework.weigh(household, decision.obligations, restricted, now, now)
        shown: list[SignalFact] = list(weighed.split.shown)
        if not shown:
            return chart([], [], [])

        def score_at(moment: datetime) -> Decimal:
            return assess_any([f for f in shown if f.occurred_at <= moment], model, moment).score

        start = min(f.occurred_at for f in shown) - LEAD_IN
        points = score_series(score_at, start, now, [f.occurred_at for f in shown])
        marks = [
            SignalMark(f.occurred_at, f.sector, f"{f.sector}: {f.signal_type}, {f.severity}")
            for f in shown
        ]
        return chart(points, marks, _alert_spans(risk, now) + _plan_spans(plans))


def _alert_spans(risk: HouseholdRiskView, now: datetime) -> list[Span]:
    spans = []
    for alert in risk.alerts:
        closed = [s["at"] for s in alert["steps"] if s.get("status") == "closed"]
        end = datetime.fromisoformat(closed[0]) if closed else now
        spans.append(Span(alert["raised_at"], end, "alert", str(alert["kind"])))
    return spans


def _plan_spans(plans: list[dict[str, Any]]) -> list[Span]:
    return [
        Span(day_start(p["starts_on"]), day_start(p["ends_on"]), "conditions", "conditions")
        for p in plans
    ]
