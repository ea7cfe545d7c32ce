"""Lawful re-identification, as the API's route and the pages both answer it: who a household
is, from the identity vault, through the gate. Only a purpose whose register entry lists the
`identity` resource may ask; each request leaves one access-log entry that names the household
pseudonym and never the identifiers; another region's household needs a justification."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from contracts.pseudonyms_v2 import PersonPseudonymV2
from privacy.actors import Analyst, AnalystRole
from privacy.policy import AccessRequest, Decision
from privacy.purposes import Resource
from privacy.storage.vault import IdentityVault
from services.errors import Refusal, RefusalKind
from services.gate import Answer, QueryGate

IDENTITY_FIELDS = ["address", "persons.bsn"]
NOT_REFERRED = "this person is not in a referral to your organisation"
"""The one answer to the OM or the police about anyone else: the same whether the household is
unknown, never referred to them, or referred without this person, so it reveals nothing."""

ReferredPersons = Callable[[str, str], frozenset[str]]
"""The persons of a household in the referrals addressed to an organisation (the referral read
model: services/referrals/store.py)."""


class IdentityRequest(BaseModel):
    """Ask who a household is, for a registered purpose."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Field(max_length=64)
    justification: str | None = Field(
        default=None, max_length=2000, description="Required across regions and for break-glass."
    )
    break_glass: bool = False
    person: PersonPseudonymV2 | None = Field(
        default=None,
        description="Only this person (with the household's address). The OM and the police "
        "(purpose prosecution) may ask only for persons of a referral addressed to them.",
    )


class AddressView(BaseModel):
    postcode: str
    house_number: int
    addition: str


class MemberIdentityView(BaseModel):
    pseudonym: str
    bsn: str


class IdentityView(BaseModel):
    """A household's address and the BSNs of the persons the radar saw in it."""

    household: str = Field(description="The household's pseudonym as the radar first knew it.")
    address: AddressView
    persons: list[MemberIdentityView]


def reidentify(
    gate: QueryGate,
    vault: IdentityVault,
    analyst: Analyst,
    household: str,
    body: IdentityRequest,
    endpoint: str,
    referred: ReferredPersons | None = None,
) -> IdentityView:
    """One decision of the gate, one access-log entry; the route's and the pages' answer. The
    OM and the police (role prosecutor) are answered only about persons of a referral to their
    organisation (`referred`; without it, never)."""
    access = AccessRequest(
        actor=analyst,
        resource=Resource.IDENTITY,
        purpose=body.purpose,
        subject=household,
        subject_region=gate.household_region(household),
        justification=body.justification,
        break_glass=body.break_glass,
    )

    def read(decision: Decision) -> Answer:
        shown = _referred_only(analyst, household, body.person, referred)
        identity = vault.household_identity(household)
        if identity is None:
            raise Refusal(
                RefusalKind.NOT_FOUND, "the identity vault holds no identity for this household"
            )
        assert decision.obligations is not None
        withheld = (  # a person under restriction (AVG art. 18) is not re-identified
            gate.restrictions.restricted_among(identity.persons)
            if decision.obligations.withhold_restricted
            else frozenset()
        )
        view = IdentityView(
            household=identity.household,
            address=AddressView(
                postcode=identity.address.postcode,
                house_number=identity.address.house_number,
                addition=identity.address.addition,
            ),
            persons=[
                MemberIdentityView(pseudonym=p, bsn=bsn)
                for p, bsn in sorted(identity.persons.items())
                if p not in withheld
                and (body.person is None or p == body.person)
                and (shown is None or p in shown)
            ],
        )
        return Answer(view, IDENTITY_FIELDS, 1 + len(view.persons))

    result: IdentityView = gate.answer(access, endpoint, read)
    return result


def _referred_only(
    analyst: Analyst, household: str, person: str | None, referred: ReferredPersons | None
) -> frozenset[str] | None:
    """Whom the OM or the police may be shown (None: anyone the purpose allows, for the other
    roles); checked before the vault is read, so a refusal tells nothing about the household."""
    if analyst.role != AnalystRole.PROSECUTOR:
        return None
    shown = frozenset() if referred is None else referred(household, analyst.organisation)
    if not shown or (person is not None and person not in shown):
        raise Refusal(RefusalKind.FORBIDDEN, NOT_REFERRED)
    return shown
