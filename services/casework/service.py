"""The casework use cases: a region's worklist, a household's risk, the monitoring of safety
conditions, and the analysts' steps (alerts, conditions, moves, departures), each performed
under the gate; the stores they read and the ledger they write through."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision, Obligations
from privacy.purposes import Resource
from privacy.retention import RetentionPolicy
from radar.alerts import AlertStateError, StaffRef
from radar.case_regie import RegieError
from radar.free_text import FreeTextError
from radar.household_state import MembershipError
from radar.regions import UnknownMunicipalityError
from radar.retention import is_case_data, retention_ends
from radar.risk import ZERO, SignalFact
from radar.risk_model import default_model
from radar.risk_model_v2 import AnyRiskModel
from radar.safety import MonitoringStateError, SafetyPlanError
from radar.safety_assessment import AssessmentStateError, SafetyAssessmentError
from services.casework.disclosure import alert_view, contribution_views, signal_fields
from services.casework.findings_views import left_out_views
from services.casework.monitoring_store import SafetyStore
from services.casework.store import WorklistStore
from services.casework.views import (
    AlertStep,
    HouseholdRiskView,
    MonitoringView,
    Recorded,
    WorklistView,
)
from services.casework.weighing import Weighed, split_facts, weigh
from services.errors import FieldError, Refusal, RefusalKind, invalid
from services.gate import Answer, QueryGate
from services.ledger.application import SignalLedger, UnknownHouseholdError
from services.projections.waiting import WAIT_SECONDS, Positioned, recorded_position, wait_until

DAY = timedelta(days=1)

SignalPersons = Callable[[Iterable[str]], Mapping[str, frozenset[str]]]
"""The persons each signal of these households names, by signal id (from the timelines)."""


class Casework:
    """What the radar routes read and write; `ledger` gives the event store, opened by the
    composition root at the first step; `retention`, the policy in force, lets the worklist
    say when an untouched alert's household will be erased; `signal_persons` tells which
    signals behind a score name a person under restriction; `read_wait` bounds how long a read
    given a step's position waits for the read models to show it."""

    def __init__(
        self,
        gate: QueryGate,
        ledger: Callable[[], SignalLedger],
        worklist: WorklistStore,
        monitoring: SafetyStore,
        retention: RetentionPolicy | None = None,
        signal_persons: SignalPersons = lambda _households: {},
        read_wait: float = WAIT_SECONDS,
    ) -> None:
        self.gate = gate
        self.worklist = worklist
        self.monitoring = monitoring
        self.retention = retention
        self._ledger = ledger
        self.signal_persons = signal_persons
        self.read_wait = read_wait

    @property
    def ledger(self) -> SignalLedger:
        return self._ledger()

    def model(self) -> AnyRiskModel:
        return self.worklist.model_in_force() or default_model()

    def now(self) -> datetime:
        return self.gate.clock()

    def household_step(self, actor: Analyst, household: str, body: AlertStep) -> AccessRequest:
        """The access request of an analyst's step on a household: its worklist, decided for
        the household's region (another region only with the body's justification)."""
        return AccessRequest(
            actor=actor,
            resource=Resource.WORKLIST,
            purpose=body.purpose,
            subject=household,
            subject_region=self.worklist.household_region(household),
            justification=body.justification,
        )

    def perform(
        self, request: AccessRequest, endpoint: str, fields: list[str], step: Callable[[], Any]
    ) -> Any:
        """Performs a step through the gate: decided and logged once; a step the domain
        refuses is logged as a deny and answered 404/409/422."""

        def read(_decision: Decision) -> Answer:
            try:
                done = step()
                if isinstance(done, Recorded):
                    done.recorded_at_position = recorded_position(self.ledger)
                return Answer(done, fields, 1)
            except UnknownHouseholdError as error:
                raise Refusal(RefusalKind.NOT_FOUND, str(error)) from error
            except (AlertStateError, MonitoringStateError, AssessmentStateError) as error:
                raise Refusal(RefusalKind.CONFLICT, str(error)) from error
            except (
                SafetyPlanError,
                FreeTextError,
                UnknownMunicipalityError,
                MembershipError,
                SafetyAssessmentError,
                RegieError,
            ) as error:
                raise invalid(_errors(error)) from error

        return self.gate.answer(request, endpoint, read)

    def read_after(self, position: int | None, *models: Positioned) -> None:
        """Waits (bounded) until these read models show a step recorded at `position`, so an
        analyst reads their own writes; 503 with Retry-After when the projector is behind."""
        if position is not None:
            wait_until(self._ledger, models, position, self.read_wait)

    def refuse(self, request: AccessRequest, endpoint: str, refusal: Refusal) -> NoReturn:
        """Answers a request that cannot be performed (an unknown id) with `refusal`, after the
        policy decided it and the access log recorded it like any other request."""

        def read(_decision: Decision) -> Answer:
            raise refusal

        self.gate.answer(request, endpoint, read)
        raise refusal  # not reached: the gate raises a deny, or read raises the refusal

    def restricted_signals(self, decision: Decision, households: Iterable[str]) -> frozenset[str]:
        """Which signals of these households (ids) name a person the decision must withhold
        because of a restriction; the households' own restriction is checked by the caller."""
        persons = self.signal_persons(households)
        named = {p for found in persons.values() for p in found}
        restricted = self.gate.restricted_for(decision, named)
        return frozenset(s for s, found in persons.items() if not restricted.isdisjoint(found))

    def worklist_answer(self, decision: Decision, region: str, purpose: str | None) -> Answer:
        """The open alerts of the region, most urgent first, as the decision may see them: a
        restricted household's alerts are left out and only counted; each household's score
        is weighed by the purpose's withheld rule, which also leaves out an alert raised by
        signals beyond the purpose alone (under `nothing` and `count`)."""
        obligations = decision.obligations
        assert obligations is not None
        now, model = self.now(), self.model()
        found = self.worklist.open_alerts(region)
        restricted = self.gate.restricted_for(decision, {e.household for e in found})
        readable = [e for e in found if e.household not in restricted]
        signals = self.restricted_signals(decision, {e.household for e in readable})
        weighed = {
            h: self.weigh(h, obligations, signals, e.score_as_of, now)
            for h, e in {e.household: e for e in readable}.items()
        }
        entries = [e for e in readable if not weighed[e.household].leaves_out(e.trigger_signals)]
        expiry = {e.household: self.expires_in_days(e.household, now) for e in entries}
        views = sorted(
            (
                alert_view(e, weighed[e.household], obligations, now, model, expiry[e.household])
                for e in entries
            ),
            key=lambda v: (-v.urgency, v.raised_at, v.alert_id),
        )
        body = WorklistView(
            region=region,
            purpose=purpose or "",
            generated_at=now,
            model_version=model.version,
            alerts=views,
            withheld=len(found) - len(readable) or None,
            withheld_rule=str(obligations.withheld),
        )
        return Answer(body, ["alerts", *signal_fields(obligations)], len(views))

    def weigh(
        self,
        household: str,
        obligations: Obligations,
        restricted: Collection[str],
        as_of: datetime | None,
        now: datetime,
    ) -> Weighed:
        """The household's score now as the purpose may be shown it."""
        return weigh(self.facts(household), obligations, restricted, self.model(), as_of, now)

    def facts(self, household: str) -> list[SignalFact]:
        """The household's signals as the event store holds them (none once erased)."""
        try:
            return self.ledger.household(household).signal_facts()
        except UnknownHouseholdError:
            return []

    def unfounded(self, household: str) -> list[SignalFact]:
        """The facts of the household's signals Veilig Thuis found unfounded (none once erased)."""
        try:
            return list(self.ledger.household(household).unfounded)
        except UnknownHouseholdError:
            return []

    def expires_in_days(self, household: str, now: datetime) -> int | None:
        """Whole days until the household's retention ends, read from the event store by the
        rule enforcement applies; None once it is case data (kept as the Veilig Thuis file)
        or without a policy."""
        if self.retention is None:
            return None
        try:
            found = self.ledger.household(household)
        except UnknownHouseholdError:
            return None
        case = self.ledger.case(household) if found.has_case else None
        if is_case_data(case):
            return None
        return max(0, (retention_ends(found, case, self.retention) - now) // DAY)

    def beyond_purpose(self, household: str, obligations: Obligations) -> frozenset[str]:
        """The ids of the household's signals beyond the purpose (no view names them)."""
        split = split_facts(self.facts(household), obligations, ())
        return frozenset(f.signal_id for f in split.beyond)

    def household_risk_answer(
        self, decision: Decision, household: str, purpose: str | None
    ) -> Answer:
        """A household's score now, the signals behind it and its alerts (a household the
        radar has no signals about scores zero), weighed by the purpose's withheld rule."""
        obligations = decision.obligations
        assert obligations is not None
        found = self.worklist.household_score(household) or {}
        now, model = self.now(), self.model()
        signals = self.restricted_signals(decision, [household])
        weighed = self.weigh(household, obligations, signals, found.get("as_of"), now)
        # the score recorded last, as far as the signals the purpose sees (and those restricted)
        # go (see Weighed.recorded_at); under `nothing` and `count` a household known only from
        # signals beyond the purpose is as unknown as it would be without them
        split = weighed.split
        recorded_at = weighed.recorded_at if found.get("as_of") else None
        recorded = None if recorded_at is None else weighed.assessed_at(recorded_at, model)
        known = found if split.weighed or not split.hides_existence else {}
        fields = signal_fields(obligations)
        child_scores = {} if recorded is None else recorded.child_scores
        children = self.gate.restricted_for(decision, child_scores)
        alerts = [
            a
            for a in self.worklist.household_alerts(household)
            if not weighed.leaves_out(a.get("trigger_signals") or ())
        ]
        body = HouseholdRiskView(
            household=household,
            purpose=purpose or "",
            region=known.get("region"),
            score_now=str(weighed.score),
            score_recorded=str(ZERO if recorded is None else recorded.score),
            recorded_at=recorded_at,
            model_version=known.get("model_version"),
            children_present=weighed.children_present,
            child_scores=(
                {c: str(v) for c, v in child_scores.items() if c not in children}
                if "persons" in obligations.fields
                else None
            ),
            explanation=contribution_views(weighed, obligations),
            left_out=left_out_views(self.unfounded(household), obligations, signals),
            alerts=[_alert_summary(a, weighed, model) for a in alerts],
            withheld_rule=str(obligations.withheld),
            withheld_by_purpose=weighed.split.count,
        )
        return Answer(body, ["score", *fields], len(weighed.lines))

    def monitoring_answer(self, decision: Decision, region: str, purpose: str | None) -> Answer:
        """The region's safety conditions under monitoring, and how monitoring ended; a
        restricted household's plans are left out and only counted."""
        found = self.monitoring.region_plans(region)
        restricted = self.gate.restricted_for(decision, {p["household"] for p in found})
        plans = [p for p in found if p["household"] not in restricted]
        today = self.now().date()
        assert decision.obligations is not None
        for plan in plans:
            if plan.get("breaches"):  # a signal's id only where the purpose sees the signal
                beyond = self.beyond_purpose(plan["household"], decision.obligations)
                plan["breaches"] = [s for s in plan["breaches"] if s not in beyond]
            for check in plan["checks"]:
                check["overdue"] = not check["assessed"] and _before(check, today)
        body = MonitoringView(
            region=region,
            purpose=purpose or "",
            plans=plans,
            outcomes=self.monitoring.outcomes(region),
        )
        if len(plans) < len(found):
            body.withheld = len(found) - len(plans)
        return Answer(body, ["safety_conditions", "monitoring_outcome"], len(plans))


def _errors(error: Exception) -> tuple[FieldError, ...]:
    field = "municipality" if isinstance(error, UnknownMunicipalityError) else "body"
    if isinstance(error, MembershipError | SafetyAssessmentError | RegieError):
        field = error.field
    return (FieldError(field=field, reason=str(error)),)


def staff(actor: Analyst) -> StaffRef:
    return StaffRef(actor.subject, actor.organisation, str(actor.role), str(actor.region))


def _alert_summary(row: dict[str, Any], weighed: Weighed, model: AnyRiskModel) -> dict[str, Any]:
    """One of the household's alerts; under `nothing` and `count` its score at raise is that
    of the signals weighed for the purpose (see alert_view)."""
    at_raise = row["score_at_raise"]
    if weighed.split.hides_existence:
        at_raise = str(weighed.score_at(row["raised_at"], model))
    return {
        "alert_id": row["alert_id"],
        "kind": row["kind"],
        "status": row["status"],
        "region": row["region"],
        "raised_at": row["raised_at"],
        "score_at_raise": at_raise,
        "steps": row["steps"],
    }


def _before(check: dict[str, Any], today: date) -> bool:
    check_date: date = check["check_date"]
    return check_date < today
