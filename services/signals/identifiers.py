"""Opens a submission's identifiers inside the trust boundary: sealed values are decrypted with
the radar's private keys, then validated exactly as identifiers sent in clear; identifiers in
clear are taken only where configuration allows it (development).

Every refusal names the field and says why, never what the value was.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import ValidationError

from contracts.bsn import passes_elfproef
from privacy.identifier_keys import IdentifierKeyring
from privacy.sealed_identifiers import (
    PublishedKey,
    SealedValue,
    SealingContext,
    UnopenableError,
    open_sealed,
)
from privacy.sealed_submission import ADDRESS_FIELD, SEALED_ADDRESS, SEALED_BSN, bsn_field
from services.addresses import AddressSubmission
from services.errors import FieldError, field_errors
from services.signals.schemas import (
    INVALID_BSN,
    HouseholdSubmission,
    Identifiers,
    PersonSubmission,
    SignalSubmission,
)

_T = TypeVar("_T")
PLAIN_REFUSED = "plain identifiers are not accepted here; seal them to the radar's key"


class IdentifierOpener:
    """Turns a valid submission into its identifiers in clear, or the field errors."""

    def __init__(self, keyring: IdentifierKeyring, allow_plain: bool) -> None:
        self.keyring = keyring
        self.allow_plain = allow_plain

    def published_key(self) -> PublishedKey:
        """The public key publishers seal to now."""
        return PublishedKey.of(self.keyring.current)

    def identifiers(self, submission: SignalSubmission) -> Identifiers | list[FieldError]:
        errors: list[FieldError] = []
        event_id = str(submission.event_id)
        home = self._home(submission.household, event_id, errors)
        bsns = [
            self._bsn(index, person, event_id, errors)
            for index, person in enumerate(submission.persons)
        ]
        if errors or home is None:
            return errors
        return Identifiers(home.home(), tuple(bsn for bsn in bsns if bsn is not None))

    def _home(
        self, household: HouseholdSubmission, event_id: str, errors: list[FieldError]
    ) -> AddressSubmission | None:
        plain = household.plain()
        if plain is not None:
            return self._plain(plain, "household", errors)
        assert household.sealed_address is not None  # the model requires one of both
        field = f"household.{SEALED_ADDRESS}"
        text = self._open(household.sealed_address, event_id, ADDRESS_FIELD, field, errors)
        if text is None:
            return None
        try:
            return AddressSubmission.model_validate_json(text)
        except ValidationError as error:
            errors.extend(field_errors(error, prefix=f"{field}."))
            return None

    def _bsn(
        self, index: int, person: PersonSubmission, event_id: str, errors: list[FieldError]
    ) -> str | None:
        if person.bsn is not None:
            return self._plain(person.bsn, bsn_field(index), errors)
        assert person.sealed_bsn is not None  # the model requires one of both
        field = f"persons.{index}.{SEALED_BSN}"
        bsn = self._open(person.sealed_bsn, event_id, bsn_field(index), field, errors)
        if bsn is not None and not passes_elfproef(bsn):
            errors.append(FieldError(field=field, reason=INVALID_BSN))
            return None
        return bsn

    def _plain(self, value: _T, field: str, errors: list[FieldError]) -> _T | None:
        if self.allow_plain:
            return value
        errors.append(FieldError(field=field, reason=PLAIN_REFUSED))
        return None

    def _open(
        self,
        sealed: SealedValue,
        event_id: str,
        sealed_for: str,
        field: str,
        errors: list[FieldError],
    ) -> str | None:
        try:
            return open_sealed(sealed, self.keyring, SealingContext(event_id, sealed_for))
        except UnopenableError as error:
            errors.append(FieldError(field=field, reason=str(error)))
            return None
