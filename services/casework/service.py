"""What the radar's query routes share: the stores they read, the ledger they write through,
and the one way a step is performed under the gate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, NoReturn

from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision
from radar.alerts import AlertStateError, StaffRef
from radar.free_text import FreeTextError
from radar.household import MembershipError
from radar.regions import UnknownMunicipalityError
from radar.risk_model import RiskModel, default_model
from radar.safety import MonitoringStateError, SafetyPlanError
from services.casework.monitoring_store import SafetyStore
from services.casework.store import WorklistStore
from services.errors import FieldError, Refusal, RefusalKind, invalid
from services.gate import Answer, QueryGate
from services.ledger.application import SignalLedger, UnknownHouseholdError


class RadarRooms:
    """What the radar routes read and write; `ledger` gives the event store, opened by the
    composition root at the first step."""

    def __init__(
        self,
        gate: QueryGate,
        ledger: Callable[[], SignalLedger],
        worklist: WorklistStore,
        monitoring: SafetyStore,
    ) -> None:
        self.gate = gate
        self.worklist = worklist
        self.monitoring = monitoring
        self._ledger = ledger

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
                return Answer(step(), fields, 1)
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

    def refuse(self, request: AccessRequest, endpoint: str, refusal: Refusal) -> NoReturn:
        """Answers a request that cannot be performed (an unknown id) with `refusal`, after the
        policy decided it and the access log recorded it like any other request."""

        def read(_decision: Decision) -> Answer:
            raise refusal

        self.gate.answer(request, endpoint, read)
        raise refusal  # not reached: the gate raises a deny, or read raises the refusal


def _errors(error: Exception) -> tuple[FieldError, ...]:
    field = "municipality" if isinstance(error, UnknownMunicipalityError) else "body"
    if isinstance(error, MembershipError):
        field = error.field
    return (FieldError(field=field, reason=str(error)),)


def staff(actor: Analyst) -> StaffRef:
    return StaffRef(actor.subject, actor.organisation, str(actor.role), str(actor.region))
