"""The casework actions as forms: acknowledge, triage and close an alert; record safety
conditions and assess a check date. Each is a step through the gate (decided, performed,
logged once, as the API's), refused without the form's CSRF token, and followed by the
household page that shows it (303, waiting for the read models to show the step)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field, ValidationError

from contracts.pseudonyms_v2 import HouseholdPseudonymV2, PersonPseudonymV2
from privacy.policy import AccessRequest
from privacy.purposes import Resource
from radar.case_assessment import Step
from radar.safety import add_months, default_check_dates
from radar.safety_assessment import (
    CURRENT_VERSION,
    Expertise,
    SafetyDecision,
    Urgency,
    instrument,
)
from services.casework.findings_routes import FIELDS, FINDINGS, FindingRequest, refused
from services.casework.service import Casework, staff
from services.casework.views import (
    CheckAssessment,
    CloseStep,
    ConditionsRequest,
    DepartureRequest,
    MonitoringClosure,
    MoveRequest,
    TriageStep,
)
from services.errors import Refusal, RefusalKind, field_errors, invalid
from services.http import endpoint
from services.pages.people import SIGN_IN, current, require_csrf
from services.pages.sessions import PageSession, SessionBook
from services.pages.web import refused_page, see_other
from services.projections.waiting import recorded_position

AlertId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
PlanId = AlertId  # a safety plan's id has the same form
YesNo = Annotated[str, Form(pattern="^(yes|no)$")]  # a form's yes/no radio buttons
Household = Annotated[HouseholdPseudonymV2, Path()]
Text = Annotated[str, Form(max_length=2000)]
MONITORING_MONTHS = 12

ALERT_STEPS = ("acknowledge", "triage", "close")


ASSESSING_PURPOSES = frozenset({"safety_assessment", "triage"})
"""As the API's: monitoring reads the worklist but does not assess reports."""


class AssessmentForm(BaseModel):
    """The instrument's chosen values, checked as the API's request checks them."""

    urgency: Urgency
    expertise: list[Expertise] = Field(max_length=len(Expertise))
    decision: SafetyDecision


def parsed(model: type[BaseModel], values: dict[str, Any]) -> Any:
    """The form as the API's request model, so the same rules hold (free text without an
    identifier, known outcomes): a wrong field is refused naming it."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise invalid(field_errors(error)) from error


def page_step(
    casework: Casework, session: PageSession, household: str, purpose: str | None
) -> AccessRequest:
    """The access request of a step a page's form takes on a household (its worklist)."""
    return AccessRequest(
        actor=session.analyst,
        resource=Resource.WORKLIST,
        purpose=purpose,
        subject=household,
        subject_region=casework.gate.household_region(household),
        # another region's household, opened with a justification: as the API's callers
        # send theirs with each step, the session's grant goes with each
        justification=session.grants.get(household),
    )


def step_routes(router: APIRouter, sessions: SessionBook, casework: Casework) -> None:
    def done(household: str, purpose: str | None) -> Response:
        after = recorded_position(casework.ledger)
        query = urlencode({"purpose": purpose or "", "after": after})
        return see_other(f"/pages/households/{household}?{query}")

    def step(
        request: Request,
        csrf: str | None,
        household_of: Callable[[PageSession], str],
        purpose: str | None,
        perform: Callable[[PageSession, str], None],
        fields: list[str],
        then: str | None = None,
    ) -> Response:
        """Performs a step through the gate; then the household page (or `then`)."""
        session = current(request, sessions)
        if session is None:
            return see_other(SIGN_IN)
        try:
            require_csrf(csrf, session.csrf)
            household = household_of(session)
            access = page_step(casework, session, household, purpose)
            casework.perform(access, endpoint(request), fields, lambda: perform(session, household))
        except Refusal as refusal:
            return refused_page(request, session.locale, refusal, session=session)
        return see_other(then) if then else done(household, purpose)

    @router.post("/pages/alerts/{alert}/{action}")
    def alert_step(
        request: Request,
        alert: AlertId,
        action: Annotated[str, Path(pattern="^(acknowledge|triage|close)$")],
        purpose: Annotated[str, Form(max_length=64)],
        csrf: Annotated[str | None, Form()] = None,
        outcome: Annotated[str | None, Form(max_length=64)] = None,
        reason: Text = "",
    ) -> Response:
        def household_of(session: PageSession) -> str:
            found = casework.worklist.alert(alert)
            if found is None:  # an id no alert has: decided and logged without a household
                unknown = AccessRequest(
                    actor=session.analyst,
                    resource=Resource.WORKLIST,
                    purpose=purpose,
                    subject_region=str(session.analyst.region),
                )
                refusal = Refusal(RefusalKind.NOT_FOUND, "no such alert")
                casework.refuse(unknown, endpoint(request), refusal)
            return str(found["household"])

        def perform(session: PageSession, household: str) -> None:
            by = staff(session.analyst)
            if action == "acknowledge":
                casework.ledger.acknowledge_alert(household, alert, by)
            elif action == "triage":
                body = parsed(TriageStep, {"outcome": outcome, "reason": reason})
                casework.ledger.triage_alert(household, alert, by, body.outcome, body.reason)
            else:
                body = parsed(CloseStep, {"reason": reason})
                casework.ledger.close_alert(household, alert, by, body.reason)

        return step(request, csrf, household_of, purpose, perform, ["alert_status"])

    @router.post("/pages/households/{household}/conditions")
    def record_conditions(
        request: Request,
        household: Household,
        purpose: Annotated[str, Form(max_length=64)],
        conditions: Annotated[str, Form(max_length=8000)],
        excluded: Annotated[list[str] | None, Form()] = None,
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        """One condition per line of the text area; the types whose signals breach them."""

        def perform(session: PageSession, _household: str) -> None:
            lines = [line.strip() for line in conditions.splitlines() if line.strip()]
            body = parsed(
                ConditionsRequest,
                {"conditions": lines, "excluded_signal_types": excluded or []},
            )
            starts_on = casework.now().date()
            casework.ledger.record_conditions(
                household,
                staff(session.analyst),
                body.conditions,
                [str(t) for t in body.excluded_signal_types],
                starts_on,
                add_months(starts_on, MONITORING_MONTHS),
                default_check_dates(starts_on),
            )

        return step(request, csrf, lambda _s: household, purpose, perform, ["safety_conditions"])

    @router.post("/pages/households/{household}/conditions/{plan_id}/checks")
    def assess_check(
        request: Request,
        household: Household,
        plan_id: PlanId,
        purpose: Annotated[str, Form(max_length=64)],
        check_date: Annotated[date, Form()],
        kept: YesNo,
        note: Text,
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        def perform(session: PageSession, _household: str) -> None:
            body = parsed(
                CheckAssessment,
                {"check_date": check_date, "conditions_kept": kept == "yes", "note": note},
            )
            casework.ledger.assess_check(
                household,
                plan_id,
                body.check_date,
                staff(session.analyst),
                body.conditions_kept,
                body.note,
            )

        return step(request, csrf, lambda _s: household, purpose, perform, ["check_assessment"])

    @router.post("/pages/households/{household}/conditions/{plan_id}/close")
    def close_monitoring(
        request: Request,
        household: Household,
        plan_id: PlanId,
        purpose: Annotated[str, Form(max_length=64)],
        achieved: YesNo,
        note: Text,
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        """End monitoring: did the conditions lead to safety?"""

        def perform(session: PageSession, _household: str) -> None:
            body = parsed(MonitoringClosure, {"safety_achieved": achieved == "yes", "note": note})
            casework.ledger.close_monitoring(
                household, plan_id, staff(session.analyst), body.safety_achieved, body.note
            )

        return step(request, csrf, lambda _s: household, purpose, perform, ["monitoring_outcome"])

    @router.post("/pages/households/{household}/safety-assessments")
    def assess_report(
        request: Request,
        household: Household,
        purpose: Annotated[str, Form(max_length=64)],
        report_id: Annotated[str, Form(pattern=r"^[0-9a-f-]{36}$")],
        acute: YesNo,
        structural: YesNo,
        urgency: Annotated[str, Form(max_length=32)],
        decision: Annotated[str, Form(max_length=64)],
        reason: Text,
        expertise: Annotated[list[str] | None, Form()] = None,
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        """The veiligheidsbeoordeling of one report: the instrument's answers (in force now)
        and the decision, with the reason; answers the instrument does not allow are refused
        naming the field, and nothing is recorded."""

        def perform(session: PageSession, _household: str) -> None:
            if purpose not in ASSESSING_PURPOSES:
                why = "a safety assessment is recorded under safety_assessment or triage"
                raise Refusal(RefusalKind.FORBIDDEN, why)
            body = parsed(
                AssessmentForm,
                {"urgency": urgency, "expertise": expertise or [], "decision": decision},
            )
            answers = instrument(CURRENT_VERSION).answer(
                acute == "yes", structural == "yes", body.urgency, body.expertise, body.decision
            )
            taken = Step(
                staff(session.analyst), parsed(CloseStep, {"reason": reason}).reason, casework.now()
            )
            casework.ledger.assess_report(household, report_id, taken, CURRENT_VERSION, answers)

        return step(request, csrf, lambda _s: household, purpose, perform, ["safety_assessment"])

    @router.post("/pages/households/{household}/move")
    def record_move(
        request: Request,
        household: Household,
        purpose: Annotated[str, Form(max_length=64)],
        municipality: Annotated[str, Form(max_length=64)],
        moved_on: Annotated[date, Form()],
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        """The household moved: its region may change, so the worklist follows (not the
        household page, which may now belong to another region)."""

        def perform(session: PageSession, _household: str) -> None:
            body = parsed(MoveRequest, {"municipality": municipality, "moved_on": moved_on})
            casework.ledger.record_move(
                household, body.municipality, body.moved_on, staff(session.analyst)
            )

        then = f"/pages/worklist?{urlencode({'purpose': purpose})}"
        return step(
            request, csrf, lambda _s: household, purpose, perform, ["household_region"], then
        )

    @router.post("/pages/households/{household}/departure")
    def record_departure(
        request: Request,
        household: Household,
        purpose: Annotated[str, Form(max_length=64)],
        member: Annotated[PersonPseudonymV2, Form()],
        left_on: Annotated[date, Form()],
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        """A member no longer lives in the household from `left_on` on."""

        def perform(session: PageSession, _household: str) -> None:
            body = parsed(DepartureRequest, {"left_on": left_on})
            casework.ledger.record_departure(
                household, member, body.left_on, staff(session.analyst), casework.now()
            )

        return step(request, csrf, lambda _s: household, purpose, perform, ["member_departure"])

    @router.post("/pages/households/{household}/signals/{signal}/{finding}")
    def record_finding(
        request: Request,
        household: Household,
        signal: Annotated[UUID, Path()],
        finding: Annotated[str, Path(pattern="^(unfounded|reporter-protection)$")],
        purpose: Annotated[str, Form(max_length=64)],
        reason: Text,
        csrf: Annotated[str | None, Form()] = None,
    ) -> Response:
        """VT's findings (services/casework/findings_routes.py): a signal found unfounded, or
        its reporter protected; the household page then shows it."""

        def perform(session: PageSession, _household: str) -> None:
            body = parsed(FindingRequest, {"reason": reason})
            record = FINDINGS[finding](casework.ledger)
            with refused():
                record(household, str(signal), staff(session.analyst), body.reason, casework.now())

        return step(request, csrf, lambda _s: household, purpose, perform, [FIELDS[finding]])
