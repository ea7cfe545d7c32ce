"""Routes of Handle with Care: Veilig Thuis lists, confirms and declines its region's notices
(purpose handle_with_care_check); the receiving school or leerplicht office acknowledges one
(purpose handle_with_care_notice) after reading it from its feed, `/v1/feeds/handle-with-care`
(services/feeds/routes.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from contracts.pseudonyms_v2 import HouseholdPseudonymV2
from privacy.actors import Analyst
from privacy.storage.vault import IdentityVault
from radar.case_hwc import Notice
from services.handle_with_care.identity import (
    ChildIdentityRequest,
    ChildIdentityView,
    child_identity,
)
from services.handle_with_care.service import HandleWithCare
from services.handle_with_care.views import (
    HwcAcknowledged,
    HwcAcknowledgeRequest,
    HwcConfirmRequest,
    HwcDeclineRequest,
    HwcNoticeView,
    HwcPendingNotice,
)
from services.http import QUERY_ERRORS, STEP_ERRORS, endpoint

Household = Annotated[HouseholdPseudonymV2, Path(description="Household pseudonym")]
NoticeId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="The notice id")]
Purpose = Annotated[str | None, Query(max_length=64, description="Registered purpose")]


def _view(notice: Notice) -> HwcNoticeView:
    return HwcNoticeView(
        notice_id=notice.notice_id,
        status=str(notice.status),
        school_day=None if notice.school_day is None else notice.school_day.isoformat(),
        deadline=notice.deadline,
    )


def hwc_router(service: HandleWithCare, vault: IdentityVault, person: Any) -> APIRouter:
    router = APIRouter(tags=["handle-with-care"], responses={**QUERY_ERRORS, **STEP_ERRORS})

    @router.get("/v1/handle-with-care/pending", response_model=list[HwcPendingNotice])
    def pending_notices(
        request: Request,
        purpose: Purpose = None,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> Any:
        """The notices of the analyst's region waiting for Veilig Thuis to check the criteria."""
        return service.pending(actor, purpose, endpoint(request))

    @router.post(
        "/v1/households/{household}/handle-with-care/{notice}/confirmation",
        response_model=HwcNoticeView,
    )
    def confirm_notice(
        request: Request,
        household: Household,
        notice: NoticeId,
        body: HwcConfirmRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> HwcNoticeView:
        """Veilig Thuis confirms the criteria are met: the notice goes to the receiver's feed,
        for the next school day before 08:30."""
        step = (body.purpose, body.justification, body.reason)
        found = service.check(
            actor, household, notice, step, endpoint(request), (True, body.municipality)
        )
        return _view(found)

    @router.post(
        "/v1/households/{household}/handle-with-care/{notice}/decline", response_model=HwcNoticeView
    )
    def decline_notice(
        request: Request,
        household: Household,
        notice: NoticeId,
        body: HwcDeclineRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> HwcNoticeView:
        """Veilig Thuis finds the criteria not met, with its reason: nobody is told."""
        step = (body.purpose, body.justification, body.reason)
        found = service.check(actor, household, notice, step, endpoint(request), (False, None))
        return _view(found)

    @router.post("/v1/handle-with-care/{notice}/acknowledgement", response_model=HwcAcknowledged)
    def acknowledge_notice(
        request: Request,
        notice: NoticeId,
        body: HwcAcknowledgeRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> Any:
        """The receiving school or leerplicht office acknowledges the notice (again: no
        change); it closes the alert of a notice acknowledged after its deadline."""
        return service.acknowledge(actor, notice, body.purpose, endpoint(request))

    @router.post("/v1/handle-with-care/{notice}/child-identity", response_model=ChildIdentityView)
    def identify_child(
        request: Request,
        notice: NoticeId,
        body: ChildIdentityRequest,
        actor: Analyst = Depends(person),  # noqa: B008
    ) -> ChildIdentityView:
        """The child's BSN, for the leerplicht office that received the notice (purpose
        handle_with_care_identity): how it finds the child's school in its own records."""
        return child_identity(
            service.gate, vault, service.store, actor, notice, body.purpose, endpoint(request)
        )

    return router
