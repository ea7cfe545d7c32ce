"""The casework use cases: a region's worklist, a household's risk, the monitoring of safety
conditions, and the analysts' steps (alerts, conditions, moves, departures), each performed
under the gate; the stores they read and the ledger they write through."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision
from privacy.retention import RetentionPolicy
from radar.alerts import AlertStateError, StaffRef
from radar.free_text import FreeTextError
from radar.household_state import MembershipError
from radar.regions import UnknownMunicipalityError
from radar.retention import is_case_data, retention_ends
from radar.risk import ZERO
from radar.risk_model import RiskModel, default_model
from radar.safety import MonitoringStateError, SafetyPlanError
from radar.worklist import ranked
from services.casework.disclosure import alert_view, contribution_views, signal_fields
from services.casework.monitoring_store import SafetyStore
from services.casework.store import WorklistStore, contribution
from services.casework.views import HouseholdRiskView, MonitoringView, Recorded, WorklistView
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

    def model(self) -> RiskModel:
        return self.worklist.model_in_force() or default_model()

    def now(self) -> datetime:
        return self.gate.clock()

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
            except (AlertStateError, MonitoringStateError) as error:
                raise Refusal(RefusalKind.CONFLICT, str(error)) from error
            except (
                SafetyPlanError,
                FreeTextError,
                UnknownMunicipalityError,
                MembershipError,
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
        restricted household's alerts are left out and only counted."""
        assert decision.obligations is not None
        now, model = self.now(), self.model()
        found = self.worklist.open_alerts(region)
        restricted = self.gate.restricted_for(decision, {e.household for e in found})
        entries = ranked([e for e in found if e.household not in restricted], now, model.urgency)
        signals = self.restricted_signals(decision, {e.household for e in entries})
        expiry = {e.household: self.expires_in_days(e.household, now) for e in entries}
        views = [
            alert_view(e, decision.obligations, now, model, expiry[e.household], restricted=signals)
            for e in entries
        ]
        body = WorklistView(
            region=region,
            purpose=purpose or "",
            generated_at=now,
            model_version=model.version,
            alerts=views,
            withheld=len(found) - len(entries) or None,
        )
        return Answer(body, ["alerts", *signal_fields(decision.obligations)], len(views))

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

    def household_risk_answer(
        self, decision: Decision, household: str, purpose: str | None
    ) -> Answer:
        """A household's score now, the signals behind it and its alerts (a household the
        radar has no signals about scores zero)."""
        assert decision.obligations is not None
        found = self.worklist.household_score(household) or {}
        now = self.now()
        recorded_at = found.get("as_of")
        contributions = [contribution(c) for c in found.get("contributions") or ()]
        decayed = [c.at(max(now, recorded_at)) for c in contributions] if recorded_at else []
        fields = signal_fields(decision.obligations)
        signals = self.restricted_signals(decision, [household])
        children = self.gate.restricted_for(decision, found.get("child_scores") or ())
        body = HouseholdRiskView(
            household=household,
            purpose=purpose or "",
            region=found.get("region"),
            score_now=str(sum((c.points for c in decayed), ZERO)),
            score_recorded=found.get("score") or str(ZERO),
            recorded_at=recorded_at,
            model_version=found.get("model_version"),
            children_present=bool(found.get("children_present")),
            child_scores=(
                _without(found.get("child_scores"), children)
                if "persons" in decision.obligations.fields
                else None
            ),
            explanation=contribution_views(decayed, decision.obligations, signals),
            alerts=[_alert_summary(a) for a in self.worklist.household_alerts(household)],
        )
        return Answer(body, ["score", *fields], len(decayed))

    def monitoring_answer(self, decision: Decision, region: str, purpose: str | None) -> Answer:
        """The region's safety conditions under monitoring, and how monitoring ended; a
        restricted household's plans are left out and only counted."""
        found = self.monitoring.region_plans(region)
        restricted = self.gate.restricted_for(decision, {p["household"] for p in found})
        plans = [p for p in found if p["household"] not in restricted]
        today = self.now().date()
        for plan in plans:
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


def _without(scores: dict[str, str] | None, restricted: frozenset[str]) -> dict[str, str] | None:
    """A child's score is about that child: a restricted child's is left out."""
    if scores is None:
        return None
    return {child: score for child, score in scores.items() if child not in restricted}


def _errors(error: Exception) -> tuple[FieldError, ...]:
    field = "municipality" if isinstance(error, UnknownMunicipalityError) else "body"
    if isinstance(error, MembershipError):
        field = error.field
    return (FieldError(field=field, reason=str(error)),)


def staff(actor: Analyst) -> StaffRef:
    return StaffRef(actor.subject, actor.organisation, str(actor.role), str(actor.region))


def _alert_summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "alert_id": row["alert_id"],
        "kind": row["kind"],
        "status": row["status"],
        "region": row["region"],
        "raised_at": row["raised_at"],
        "score_at_raise": row["score_at_raise"],
        "steps": row["steps"],
    }


def _before(check: dict[str, Any], today: date) -> bool:
    check_date: date = check["check_date"]
    return check_date < today
