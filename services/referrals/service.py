"""Recording a referral, as the API's route and the pages' form both do it: within a step the
gate already permitted (services/casework/service.py, Casework.perform), so a refusal here is a
logged deny and nothing is recorded."""

from __future__ import annotations

from collections.abc import Collection

from privacy.actors import Analyst
from radar.case_assessment import Step
from radar.case_referral import Referral, ReferralError
from services.casework.service import Casework, staff
from services.referrals.views import ReferralRequest

REFERRING_PURPOSES = frozenset({"safety_assessment", "triage"})
"""The purposes a referral is recorded under: those the assessment that found the suspected
offence is recorded under (services/casework/assessment_routes.py)."""
NOT_REFERRING = "a referral is recorded under safety_assessment or triage"


def record_referral(
    casework: Casework,
    actor: Analyst,
    household: str,
    body: ReferralRequest,
    recipients: Collection[str],
) -> Referral:
    """Records the referral the request asks for; ReferralError (422) names what is wrong."""
    if body.recipient not in recipients:
        raise ReferralError("recipient", "not an OM office or police unit of the register")
    taken = Step(staff(actor), body.reason, casework.now())
    return casework.ledger.refer_offence(
        household, body.assessment_id, body.recipient, body.persons, body.signals, taken
    )
