"""The Handle with Care use cases, each through the gate: Veilig Thuis lists its region's
pending notices and confirms or declines one; the receiver acknowledges a notice of its own.
Domain errors become refusals here (409 for a step out of order, 422 for a field, 404 for a
notice the asking organisation does not receive: the same answer as for no notice at all)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from radar.case_assessment import Step
from radar.case_hwc import Notice, NoticeError, NoticeStateError, UnknownNoticeError
from radar.free_text import FreeTextError
from services.casework.service import staff
from services.database import stored_utc
from services.errors import Refusal, RefusalKind, invalid_field
from services.gate import Answer, QueryGate
from services.handle_with_care.store import BODY_FIELDS, HandleWithCareStore
from services.ledger.application import SignalLedger, UnknownHouseholdError

MAX_RECEIVED = 200
"""More notices than a school receives in a school year; older ones stay in the feed."""
NOT_YOURS = "no such Handle with Care notice for your organisation"
NOTICE_FIELDS = ["handle_with_care_notice"]


class HandleWithCare:
    """What the Handle with Care routes read and write."""

    def __init__(
        self,
        gate: QueryGate,
        ledger: Callable[[], SignalLedger],
        store: HandleWithCareStore,
    ) -> None:
        self.gate = gate
        self.store = store
        self.ledger = ledger  # opened by the composition root at the first step

    def pending(self, actor: Analyst, purpose: str | None, endpoint: str) -> Any:
        """The notices of the analyst's region waiting for a check."""
        access = AccessRequest(actor=actor, resource=Resource.HANDLE_WITH_CARE, purpose=purpose)

        def read(_decision: Decision) -> Answer:
            rows = self.store.pending(str(actor.region))
            body = [_pending_view(row) for row in rows]
            return Answer(body, ["notice_id", "household", "child", "occurred_at"], len(body))

        return self.gate.answer(access, endpoint, read)

    def received(self, actor: Analyst, purpose: str | None, endpoint: str) -> Any:
        """The receiving organisation's notices, each as its feed item says it, and whether it
        was acknowledged (the receivers' page)."""
        access = AccessRequest(actor=actor, resource=Resource.HANDLE_WITH_CARE, purpose=purpose)

        def read(_decision: Decision) -> Answer:
            rows = self.store.received(actor.organisation, MAX_RECEIVED)
            body = [_received_view(row) for row in rows]
            return Answer(body, sorted(BODY_FIELDS), len(body))

        return self.gate.answer(access, endpoint, read)

    def check(
        self,
        actor: Analyst,
        household: str,
        notice: str,
        step: tuple[str | None, str | None, str],
        endpoint: str,
        confirm: tuple[bool, str | None],
    ) -> Notice:
        """Confirms (`confirm` = (True, municipality)) or declines a pending notice."""
        purpose, justification, reason = step
        confirmed, municipality = confirm
        access = AccessRequest(
            actor=actor,
            resource=Resource.HANDLE_WITH_CARE,
            purpose=purpose,
            subject=household,
            subject_region=self.gate.household_region(household),
            justification=justification,
        )
        taken = Step(staff(actor), reason, self.gate.clock())

        def act() -> Notice:
            ledger = self.ledger()
            if confirmed:
                return ledger.confirm_notice(household, notice, taken, municipality)
            return ledger.decline_notice(household, notice, taken)

        found: Notice = self.gate.answer(access, endpoint, _performed(act))
        return found

    def acknowledge(self, actor: Analyst, notice: str, purpose: str | None, endpoint: str) -> Any:
        """The receiver acknowledges one of its notices; anyone else learns it does not exist."""
        row = self.store.notice(notice)
        if row is not None and row["recipient"] != actor.organisation:
            row = None  # not the receiver: as if there were no such notice
        access = AccessRequest(
            actor=actor,
            resource=Resource.HANDLE_WITH_CARE,
            purpose=purpose,
            subject=None if row is None else row["household"],  # for the access log only
        )
        by = {"subject": actor.subject, "organisation": actor.organisation, "role": actor.role}

        def act() -> dict[str, Any]:
            if row is None:
                raise UnknownNoticeError(NOT_YOURS)
            done = self.ledger().acknowledge_notice(row["household"], notice, by, self.gate.clock())
            return {"notice_id": notice, "acknowledged_at": done.acknowledged_at}

        return self.gate.answer(access, endpoint, _performed(act))


def _performed(act: Callable[[], Any]) -> Callable[[Decision], Answer]:
    def read(_decision: Decision) -> Answer:
        try:
            return Answer(act(), NOTICE_FIELDS, 1)
        except (UnknownNoticeError, UnknownHouseholdError) as error:
            raise Refusal(RefusalKind.NOT_FOUND, str(error)) from error
        except NoticeStateError as error:
            raise Refusal(RefusalKind.CONFLICT, str(error)) from error
        except NoticeError as error:
            raise invalid_field(error.field, str(error)) from error
        except FreeTextError as error:
            raise invalid_field("reason", str(error)) from error

    return read


def _pending_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "notice_id": row["notice"],
        "household": row["household"],
        "child": row["child"],
        "occurred_at": stored_utc(row["occurred_at"]),
        "region": row["region"],
    }


def _received_view(row: dict[str, Any]) -> dict[str, Any]:
    item = HandleWithCareStore.item(row)
    return {**item.body, "acknowledged_at": row["acknowledged_at"]}
