"""Lawful re-identification: who a household is, from the identity vault, through the gate.

Veilig Thuis must know whom to contact. Only a purpose whose register entry lists the
`identity` resource (triage, safety assessment) may ask, each request leaves one access-log entry
(permit or deny) that names the household pseudonym and never the identifiers, and a request
from another region than the household's needs a justification and notifies the household's
region. The identifiers go into the response and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, Path, Request

from contracts.pseudonyms import HouseholdPseudonym
from privacy.actors import Analyst
from privacy.storage.vault import IdentityVault
from services.gate import QueryGate
from services.http import BODY_ERRORS, QUERY_ERRORS, endpoint
from services.oversight.identity import (
    IdentityRequest,
    IdentityView,
    ReferredPersons,
    reidentify,
)


def identity_router(
    gate: QueryGate,
    vault: IdentityVault,
    actor: Callable[..., Analyst],
    referred: ReferredPersons | None = None,
) -> APIRouter:
    """The re-identification route; `actor` is the analysts' authentication dependency;
    `referred` tells which persons the OM and the police may be answered about."""
    router = APIRouter(tags=["identity"], responses={**QUERY_ERRORS, **BODY_ERRORS})

    @router.post("/v1/households/{household}/identity", response_model=IdentityView)
    def household_identity(
        request: Request,
        body: IdentityRequest,
        household: HouseholdPseudonym = Path(description="Household pseudonym"),  # noqa: B008
        analyst: Analyst = Depends(actor),  # noqa: B008
    ) -> IdentityView:
        """Who the household is (address, members' BSNs); 403 unless the purpose allows
        re-identification for this analyst; 404 when the vault holds no identity for it."""
        return reidentify(gate, vault, analyst, household, body, endpoint(request), referred)

    return router
