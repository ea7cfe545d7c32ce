"""Routes for the safety assessment (veiligheidsbeoordeling): the instrument itself, recording
the assessment of a report, and closing the own investigation it decided.

The steps answer through the gate like the alert steps (Resource.WORKLIST: Veilig Thuis roles
only, the household's own region unless justified), recording the analyst who took them; free
text passes the leak guard; answers the instrument does not allow are 422 with the field, and
nothing is recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from contracts.pseudonyms_v2 import HouseholdPseudonymV2
from privacy.actors import Analyst
from radar.case_assessment import Step
from radar.safety_assessment import (
    CURRENT_VERSION,
    INSTRUMENTS,
    Expertise,
    InvestigationOutcome,
    SafetyAssessmentError,
    SafetyDecision,
    Urgency,
    instrument,
)
from services.casework.service import Casework, staff
from services.casework.views import AlertStep, Note, Recorded
from services.errors import Refusal, RefusalKind, invalid_field
from services.http import QUERY_ERRORS, STEP_ERRORS, endpoint

Household = Annotated[HouseholdPseudonymV2, Path(description="Household pseudonym")]
AssessmentId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="Assessment id")]
ASSESSING_PURPOSES = frozenset({"safety_assessment", "triage"})
"""The purposes a safety assessment is recorded under: the assessment is triage's successor
(the veiligheidsbeoordeling); monitoring reads the worklist but does not assess reports."""


class AssessmentRequest(AlertStep):
    """The answers to one version of the instrument, for one of the household's reports."""

    report_id: str = Field(
        pattern=r"^[0-9a-f-]{36}$", description="The id of the report's vt_report signal."
    )
    instrument_version: int = Field(
        default=CURRENT_VERSION, ge=1, description="The version the answers were given to."
    )
    acute_unsafety: bool
    structural_unsafety: bool
    urgency: Urgency
    expertise: list[Expertise] = Field(default_factory=list, max_length=len(Expertise))
    decision: SafetyDecision
    reason: Note


class AssessmentView(Recorded):
    assessment_id: str
    household: str
    report_id: str
    reported_at: datetime
    region: str
    instrument_version: int
    decision: str
    by: dict[str, str]


class InvestigationClosure(AlertStep):
    outcome: InvestigationOutcome
    reason: Note


class InvestigationView(Recorded):
    assessment_id: str
    household: str
    outcome: str
    by: dict[str, str]


class InstrumentView(BaseModel):
    version: int
    in_force_from: str
    questions: list[dict[str, Any]]
    decisions: list[str]
    rules: list[str]
    versions: list[int] = Field(description="Every released version.")


def assessment_router(casework: Casework, person: Any) -> APIRouter:
    """The instrument and the assessment steps; `person` authenticates the analyst."""
    router = APIRouter(tags=["safety assessment"], responses={**QUERY_ERRORS, **STEP_ERRORS})

    access = casework.household_step

    @router.get(
        "/v1/safety-assessment/instrument",
        response_model=InstrumentView,
        openapi_extra={"x-personal-data": False},  # nothing to log in the access log
    )
    def describe(
        version: Annotated[int, Query(ge=1)] = CURRENT_VERSION,
        _actor: Analyst = Depends(person),  # noqa: B008
    ) -> InstrumentView:
        """The instrument's questions, decisions and rules (no personal data: not logged)."""
        try:
            found = instrument(version)
        except SafetyAssessmentError as error:
            raise invalid_field("version", str(error)) from error
        return InstrumentView(**found.describe(), versions=sorted(INSTRUMENTS))

    @router.post(
        "/v1/households/{household}/safety-assessments",
        response_model=AssessmentView,
        status_code=201,
    )
    def assess(
        request: Request,
        household: Household,
        body: AssessmentRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> AssessmentView:
        """Record the safety assessment of one of the household's reports: the answers to the
        instrument and the decision, with the reason."""
        asked = access(actor, household, body)
        if body.purpose is not None and body.purpose not in ASSESSING_PURPOSES:
            reason = "a safety assessment is recorded under safety_assessment or triage"
            casework.refuse(asked, endpoint(request), Refusal(RefusalKind.FORBIDDEN, reason))

        def step() -> AssessmentView:
            taken = Step(staff(actor), body.reason, casework.now())
            answers = instrument(body.instrument_version).answer(
                body.acute_unsafety,
                body.structural_unsafety,
                body.urgency,
                body.expertise,
                body.decision,
            )
            ledger = casework.ledger
            new_id = ledger.assess_report(
                household, body.report_id, taken, body.instrument_version, answers
            )
            case = ledger.case(household)
            assert case is not None
            done = case.assessments[new_id]
            return AssessmentView(
                assessment_id=new_id,
                household=household,
                report_id=done.report.report_id,
                reported_at=done.report.reported_at,
                region=done.report.region,
                instrument_version=done.instrument_version,
                decision=str(done.decision),
                by=done.by,
            )

        view: AssessmentView = casework.perform(
            asked, endpoint(request), ["safety_assessment"], step
        )
        return view

    @router.post(
        "/v1/households/{household}/safety-assessments/{assessment}/investigation/close",
        response_model=InvestigationView,
    )
    def close_investigation(
        request: Request,
        household: Household,
        assessment: AssessmentId,
        body: InvestigationClosure,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> InvestigationView:
        """Close the own investigation an assessment decided, with Veilig Thuis's conclusion."""

        def step() -> InvestigationView:
            taken = Step(staff(actor), body.reason, casework.now())
            casework.ledger.close_investigation(household, assessment, taken, body.outcome)
            return InvestigationView(
                assessment_id=assessment,
                household=household,
                outcome=str(body.outcome),
                by=taken.by.record(),
            )

        view: InvestigationView = casework.perform(
            access(actor, household, body), endpoint(request), ["investigation_outcome"], step
        )
        return view

    return router
