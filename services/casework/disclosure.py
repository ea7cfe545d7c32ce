"""What an alert's explanation may show for the purpose of the request.

The purpose register's withheld rule decides what the score tells of the signals the purpose
may not see (a sector it does not cover, mental health for triage, say, or before its look-back
window); services/casework/weighing.py applies it. Under `weight` (triage) the score is the
radar's own judgement shown whole, so that every analyst of a region sees the same order of
urgency, and what those signals add to it is one line marked withheld, without sector, type or
date: it tells *that* other information weighs in (the Verwijsindex idea: a match, not its
content), so the analyst can ask the confidential doctor (vertrouwensarts), who may see it.
Under `count` the answer says how many there are and the score is that of the rest; under
`nothing` it is as if they did not exist. `sectors` and `sector_count` count only the sectors
the purpose sees: the withheld line is no sector.

A signal that names a person whose processing is restricted (AVG art. 18) goes into the
withheld line for a purpose without `restricted_access`, whatever the rule, and counts for no
sector: the lines still add up, and nothing says which signal or why.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from privacy.disclosure import disclose
from privacy.policy import Obligations
from radar.alerts import urgency
from radar.risk import Contribution
from radar.risk_model_v2 import AnyRiskModel
from radar.worklist import WorklistEntry
from services.casework.views import AlertView, ContributionView
from services.casework.weighing import Weighed

SIGNAL_FIELDS = ("signal_id", "sector", "signal_type", "severity", "occurred_at")
SECONDS_PER_DAY = 86400.0


def signal_fields(obligations: Obligations) -> list[str]:
    """The signal fields of an explanation this purpose may see."""
    return [f for f in SIGNAL_FIELDS if f in obligations.fields]


def contribution_views(weighed: Weighed, obligations: Obligations) -> list[ContributionView]:
    """The explanation as the purpose may see it: a line per signal it sees, reduced to its
    fields, and one withheld line for the rest of the score (see weighing.py); the lines add
    up to the score shown."""
    shown: list[ContributionView] = []
    for item in weighed.lines:
        record = {
            "signal_id": item.signal_id,
            "sector": item.sector,
            "signal_type": item.signal_type,
            "severity": item.severity,
            "occurred_at": item.occurred_at,
        }
        [disclosed] = disclose(obligations, [record])  # weighed.lines are all shown
        shown.append(
            ContributionView(
                points=str(item.points), factors=_factors(item, weighed.model_2), **disclosed
            )
        )
    if weighed.withheld_points > 0:
        shown.append(ContributionView(points=str(weighed.withheld_points), withheld=True))
    return shown


def alert_view(
    entry: WorklistEntry,
    weighed: Weighed,
    obligations: Obligations,
    now: datetime,
    model: AnyRiskModel,
    expires_in_days: int | None = None,
) -> AlertView:
    """One open alert for the worklist, its household's score weighed for the purpose now
    (`weighed`) and disclosed. Under `weight` the alert is the radar's judgement shown whole
    (kind, score at raise); under `nothing` and `count` its score at raise is that of the
    signals weighed for the purpose too."""
    score_now = weighed.score
    at_raise = (
        weighed.score_at(entry.raised_at, model)
        if weighed.split.hides_existence
        else entry.score_at_raise
    )
    return AlertView(
        alert_id=entry.alert_id,
        household=entry.household,
        region=entry.region,
        kind=entry.kind,
        reasons=list(entry.reasons),
        status=entry.status,
        raised_at=entry.raised_at,
        days_open=round(max(0.0, (now - entry.raised_at).total_seconds() / SECONDS_PER_DAY), 2),
        urgency=round(
            urgency(
                float(score_now),
                weighed.children_present,
                entry.kind,
                entry.raised_at,
                now,
                model.urgency,
            ),
            2,
        ),
        score_at_raise=str(at_raise),
        score_now=str(Decimal(score_now)),
        model_version=entry.model_version,
        children_present=weighed.children_present,
        sectors=weighed.sectors,
        sector_count=len(weighed.sectors),
        explanation=contribution_views(weighed, obligations),
        withheld_by_purpose=weighed.split.count,
        plan_id=entry.plan_id,
        check_date=entry.check_date,
        steps=list(entry.steps),
        expires_in_days=expires_in_days,
    )


def _factors(item: Contribution, model_2: bool) -> dict[str, float]:
    """The line's factors; under model 2 also its form of violence and partner violence
    repeated (their product is the points: the explanation adds up to the score)."""
    factors = {
        "weight": item.weight,
        "half_life_days": item.half_life_days,
        "decay": round(item.decay, 4),
        "convergence": item.convergence,
        "repetition": round(item.repetition, 4),
        "escalation": item.escalation,
        "children": item.children,
    }
    if model_2:
        factors |= {"form": item.form, "partner": item.partner}
    return factors
