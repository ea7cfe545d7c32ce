"""What an alert's explanation may show for the purpose of the request.

The score is the radar's own judgement and is shown whole, so that every analyst of a region
sees the same order of urgency. Its explanation follows the decision's obligations, signal by
signal, through the privacy layer's disclosure rule: a signal of a sector the purpose may not
see (mental health for triage, say) or from before its look-back window is not shown; its
points are summed into one line marked withheld, without its sector, type or date. That line
tells *that* other information weighs in (the Verwijsindex idea: a match, not its content),
so the analyst can ask the confidential doctor (vertrouwensarts), who may see it.

A signal that names a person whose processing is restricted (AVG art. 18) goes into the same
withheld line for a purpose without `restricted_access`, and counts for no sector: the lines
still add up, and nothing says which signal or why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from privacy.disclosure import disclose
from privacy.policy import Obligations
from radar.risk import ZERO, Contribution
from radar.risk_model import RiskModel
from radar.worklist import WorklistEntry
from services.casework.views import AlertView, ContributionView

SIGNAL_FIELDS = ("signal_id", "sector", "signal_type", "severity", "occurred_at")
SECONDS_PER_DAY = 86400.0


def signal_fields(obligations: Obligations) -> list[str]:
    """The signal fields of an explanation this purpose may see."""
    return [f for f in SIGNAL_FIELDS if f in obligations.fields]


def contribution_views(
    contributions: Sequence[Contribution],
    obligations: Obligations,
    restricted: frozenset[str] = frozenset(),
) -> list[ContributionView]:
    """The explanation as the purpose may see it, the signals in `restricted` (ids) withheld;
    the lines add up to the whole score."""
    shown: list[ContributionView] = []
    withheld = ZERO
    for item in contributions:
        if item.signal_id in restricted:
            withheld += item.points
            continue
        record = {
            "signal_id": item.signal_id,
            "sector": item.sector,
            "signal_type": item.signal_type,
            "severity": item.severity,
            "occurred_at": item.occurred_at,
        }
        disclosed = disclose(obligations, [record])
        if not disclosed:
            withheld += item.points
            continue
        shown.append(
            ContributionView(points=str(item.points), factors=_factors(item), **disclosed[0])
        )
    if withheld > 0:
        shown.append(ContributionView(points=str(withheld), withheld=True))
    return shown


def alert_view(
    entry: WorklistEntry,
    obligations: Obligations,
    now: datetime,
    model: RiskModel,
    expires_in_days: int | None = None,
    restricted: frozenset[str] = frozenset(),
) -> AlertView:
    """One open alert for the worklist, its explanation decayed to now and disclosed, the
    signals in `restricted` (ids) withheld."""
    explanation = entry.explanation_now(now)
    score_now = sum((c.points for c in explanation), ZERO)
    behind = {c.sector for c in explanation if c.signal_id not in restricted}
    return AlertView(
        alert_id=entry.alert_id,
        household=entry.household,
        region=entry.region,
        kind=entry.kind,
        reasons=list(entry.reasons),
        status=entry.status,
        raised_at=entry.raised_at,
        days_open=round(max(0.0, (now - entry.raised_at).total_seconds() / SECONDS_PER_DAY), 2),
        urgency=round(entry.urgency(now, model.urgency), 2),
        score_at_raise=str(entry.score_at_raise),
        score_now=str(Decimal(score_now)),
        model_version=entry.model_version,
        children_present=entry.children_present,
        sectors=sorted(behind & obligations.sectors),
        sector_count=len(behind),
        explanation=contribution_views(explanation, obligations, restricted),
        plan_id=entry.plan_id,
        check_date=entry.check_date,
        steps=list(entry.steps),
        expires_in_days=expires_in_days,
    )


def _factors(item: Contribution) -> dict[str, float]:
    return {
        "weight": item.weight,
        "half_life_days": item.half_life_days,
        "decay": round(item.decay, 4),
        "convergence": item.convergence,
        "repetition": round(item.repetition, 4),
        "escalation": item.escalation,
        "children": item.children,
    }
