"""Lawful re-identification of the child of a Handle with Care notice, by the leerplicht office
that received it: the one party told a reference rather than its own signal, because the radar
cannot know the child's school. Only the child's BSN, only for the receiving office, only under
the purpose handle_with_care_identity (role compulsory_education), one access-log entry that
names the household and never the BSN; a child under restriction (AVG art. 18) is not
re-identified. The BSN goes into the response and nowhere else."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from privacy.actors import Analyst
from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from privacy.storage.vault import IdentityVault
from services.errors import Refusal, RefusalKind
from services.gate import Answer, QueryGate
from services.handle_with_care.service import NOT_YOURS
from services.handle_with_care.store import COMPULSORY_EDUCATION, HandleWithCareStore

IDENTITY_PURPOSE = "handle_with_care_identity"
CHILD_FIELDS = ["child.bsn"]


class ChildIdentityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(max_length=64)


class ChildIdentityView(BaseModel):
    """All the office learns: which notice, and the child's BSN."""

    notice_id: str
    bsn: str


def child_identity(
    gate: QueryGate,
    vault: IdentityVault,
    store: HandleWithCareStore,
    actor: Analyst,
    notice: str,
    purpose: str,
    endpoint: str,
) -> ChildIdentityView:
    """The child's BSN for the office that received the notice; 404 for anyone else."""
    row = store.notice(notice)
    if row is not None and (
        row["recipient"] != actor.organisation or row["recipient_kind"] != COMPULSORY_EDUCATION
    ):
        row = None  # not the receiving office: as if there were no such notice
    access = AccessRequest(
        actor=actor,
        resource=Resource.HANDLE_WITH_CARE,
        purpose=purpose,
        subject=None if row is None else row["household"],
    )

    def read(_decision: Decision) -> Answer:
        if purpose != IDENTITY_PURPOSE:
            raise Refusal(
                RefusalKind.FORBIDDEN, f"re-identification asks purpose {IDENTITY_PURPOSE}"
            )
        if row is None:
            raise Refusal(RefusalKind.NOT_FOUND, NOT_YOURS)
        child = str(row["child"])
        bsn = None if gate.restrictions.is_restricted(child) else vault.person_bsn(child)
        if bsn is None:
            raise Refusal(RefusalKind.NOT_FOUND, "the identity vault holds no BSN for this child")
        return Answer(ChildIdentityView(notice_id=notice, bsn=bsn), CHILD_FIELDS, 1)

    found: ChildIdentityView = gate.answer(access, endpoint, read)
    return found
