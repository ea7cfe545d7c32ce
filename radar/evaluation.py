"""What follows from new signals, a model change or the passing of time: the household's
region and score, and the alerts its region gets. Commands on aggregates only; the ledger loads
and saves them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal

from radar.alerts import AlertKind
from radar.case import HouseholdCase
from radar.household import Household
from radar.hwc_evaluation import handle_with_care
from radar.regions import responsible_region
from radar.risk import Assessment, SignalFact, sectors_near
from radar.risk_in_force import assess_any, high_band_reasons
from radar.risk_model_v2 import AnyRiskModel, RiskModelV2
from radar.risk_v2 import SignalFactV2, repeat_due
from radar.safety import dutch_date


def after_new_signals(
    household: Household,
    case: HouseholdCase | None,
    model: AnyRiskModel,
    new_signal_ids: Collection[str],
    corrected_signal_ids: Collection[str] = (),
    corrected_at: datetime | None = None,
) -> HouseholdCase | None:
    """Moves the household's region, rescores it and raises the alerts the new signals call
    for; returns the case (opened when a first alert is raised).

    Corrections and retractions (the latest received at `corrected_at`) rescore the same way.
    Alerts already raised stay: people act on them. A retraction raises nothing; a correction
    counts as news only when it raises the score, so a lowered severity alerts no one.
    """
    facts = household.signal_facts()
    region = follow_region(household, case, reason="signal" if new_signal_ids else "correction")
    previous = household.latest_score
    moments = [f.received_at for f in facts]
    moments += [m for m in (corrected_at, previous.as_of if previous else None) if m is not None]
    as_of = max(moments)
    before = household.score_decayed_to(as_of) if corrected_signal_ids else None
    score = household.change_score(
        model, as_of, cause="signals" if new_signal_ids else "correction"
    )
    news = set(new_signal_ids)
    if corrected_signal_ids and (previous is None or before is None or score > before):
        news |= set(corrected_signal_ids)
    new = sorted((f for f in facts if f.signal_id in news), key=lambda f: f.signal_id)
    recorded = [f for f in new if f.signal_id in new_signal_ids]
    case = handle_with_care(household, case, recorded, as_of)  # radar.case_hwc
    if not new or region is None:
        return case
    if case is not None:
        _raise_breach(case, new, region, household)
        if isinstance(model, RiskModelV2):
            _raise_repeats(case, new, region, household, model)
    if case is None or not case.has_open_risk_alert():
        reasons, sectors = risk_reasons(facts, new, score, model)
        if isinstance(model, RiskModelV2):
            reasons += high_band_reasons(new, model, as_of, household.partner_incidents)
        if reasons:
            if case is None:
                case = HouseholdCase(household.pseudonym)
                household.open_case()
            case.raise_alert(
                AlertKind.CROSS_SECTOR
                if reasons[0] == AlertKind.CROSS_SECTOR
                else AlertKind.THRESHOLD,
                key=new[0].signal_id,
                region=region,
                raised_at=as_of,
                assessment=_explained(household),
                reasons=reasons,
                trigger_signals=[f.signal_id for f in new],
                sectors=sectors,
            )
    return case


def follow_region(household: Household, case: HouseholdCase | None, reason: str) -> str | None:
    """Assigns the region the household's history points to; open alerts move along."""
    region = responsible_region(household.region_evidence())
    if region is not None and household.assign_region(region, reason) and case is not None:
        case.transfer_open_alerts(region)
    return household.responsible_region


def risk_reasons(
    facts: Sequence[SignalFact],
    new: Sequence[SignalFact],
    score: Decimal,
    model: AnyRiskModel,
) -> tuple[list[str], list[str]]:
    """Why the new signals call for a risk alert (most specific reason first), and the sectors
    of the cross-sector match if there is one. Under model 2 the high band raises one too,
    whatever the score (radar.risk_in_force.high_band_reasons, after these)."""
    thresholds = model.thresholds
    reasons: list[str] = []
    matched: set[str] = set()
    for fact in new:
        sectors = sectors_near(facts, fact, model.convergence.window_days)
        if len(sectors) >= thresholds.cross_sector_min_sectors:
            matched |= sectors
    if matched and score >= _points(thresholds.cross_sector_min_score):
        reasons.append(str(AlertKind.CROSS_SECTOR))
    if score >= _points(thresholds.alert_score):
        reasons.append(str(AlertKind.THRESHOLD))
    return reasons, sorted(matched) if reasons else []


def _raise_repeats(
    case: HouseholdCase,
    new: Sequence[SignalFact],
    region: str,
    household: Household,
    model: RiskModelV2,
) -> None:
    """The MARAC rule: each new incident within a year after a high-risk alert raises a
    repeat alert, whatever the score (once per incident: keyed by the signal)."""
    if not case.high_risk_at:
        return
    for fact in new:
        after = repeat_due(SignalFactV2.from_fact(fact), case.high_risk_at, model)
        if after is None:
            continue
        assessment = _explained(household)
        case.raise_alert(
            AlertKind.REPEAT,
            key=fact.signal_id,
            region=region,
            raised_at=assessment.as_of,
            assessment=assessment,
            trigger_signals=[fact.signal_id],
            sectors=[fact.sector],
        )


def _raise_breach(
    case: HouseholdCase, new: Sequence[SignalFact], region: str, household: Household
) -> None:
    """A signal the agreed conditions exclude raises a breach alert at once."""
    plan = case.active_plan()
    signals = [] if plan is None else plan.breaching_signals(new)
    if plan is None or not signals:
        return
    assessment = _explained(household)
    case.raise_alert(
        AlertKind.BREACH,
        key=signals[0].signal_id,
        region=region,
        raised_at=assessment.as_of,
        assessment=assessment,
        trigger_signals=[f.signal_id for f in signals],
        sectors=sorted({f.sector for f in signals}),
        plan_id=plan.plan_id,
    )


def rescore(household: Household, model: AnyRiskModel, as_of: datetime) -> bool:
    """Scores the household under a newly adopted model; False if there was nothing to do.
    A model change alone raises no alerts: `radar model diff` shows its effect beforehand."""
    latest = household.latest_score
    if not household.signal_facts():
        return False
    if latest is not None and latest.model_version == model.version:
        return False
    household.change_score(model, as_of, cause="model_adopted")
    return True


def remind_missed_checks(
    household: Household, case: HouseholdCase, model: AnyRiskModel, now: datetime
) -> list[str]:
    """Raises a reminder for each check date that passed without an assessment."""
    plan = case.active_plan()
    region = household.responsible_region
    if plan is None or region is None:
        return []
    assessment = household.latest_assessment() or assess_any(household.signal_facts(), model, now)
    raised = []
    for check_date in plan.missed_checks(dutch_date(now)):
        alert = case.raise_alert(
            AlertKind.CHECK_OVERDUE,
            key=f"{plan.plan_id}:{check_date.isoformat()}",
            region=region,
            raised_at=now,
            assessment=assessment,
            plan_id=plan.plan_id,
            check_date=check_date.isoformat(),
        )
        if alert is not None:
            raised.append(alert)
    return raised


def _points(value: float) -> Decimal:
    return Decimal(str(value))


def _explained(household: Household) -> Assessment:
    """The score just recorded with its explanation (computed only when an alert needs it)."""
    assessment = household.latest_assessment()
    assert assessment is not None, "scored before"
    return assessment
