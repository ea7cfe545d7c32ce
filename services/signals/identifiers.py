"""Opens a submission's identifiers inside the trust boundary: sealed values are decrypted with
the radar's private keys, then validated exactly as identifiers sent in clear; identifiers in
clear are taken only where configuration allows it (development).

Every refusal names the field and says why, never what the value was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from pydantic import TypeAdapter, ValidationError

from contracts.bsn import passes_elfproef
from privacy.identifier_keys import IdentifierKeyring
from privacy.pseudonyms import LocalIdentifier
from privacy.sealed_identifiers import (
    PublishedKey,
    SealedValue,
    SealingContext,
    UnopenableError,
    open_sealed,
)
from privacy.sealed_submission import (
    ADDRESS_FIELD,
    PLACEMENT_REFERENCE_FIELD,
    SEALED_ADDRESS,
    SEALED_BSN,
    SEALED_LOCAL_REFERENCE,
    SEALED_REFERENCE,
    bsn_field,
    local_reference_field,
)
from services.addresses import AddressSubmission
from services.errors import FieldError, field_errors
from services.signals.schemas import (
    INVALID_BSN,
    Identifiers,
    PersonSubmission,
    SignalSubmission,
    plain_address,
)
from services.signals.submission_v2 import (
    HouseholdSubmissionV2,
    LocalReference,
    PersonSubmissionV2,
    SignalSubmissionV2,
)

_T = TypeVar("_T")
_REFERENCE: TypeAdapter[str] = TypeAdapter(LocalReference)
PLAIN_REFUSED = "plain identifiers are not accepted here; seal them to the radar's key"


@dataclass(frozen=True)
class IdentifiersV2:
    """A signal.v2's identifiers in clear, opened and validated (only inside the request)."""

    home: AddressSubmission | LocalIdentifier  # a home address, or a shelter's placement
    persons: tuple[tuple[str | None, LocalIdentifier | None], ...]  # (BSN, own reference)


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
        event_id = submission.event_id  # a text only when a sealed value is opened
        household = submission.household
        home = self._home(household.sealed_address, household.plain(), event_id, errors)
        bsns = [
            self._bsn(index, person, event_id, errors)
            for index, person in enumerate(submission.persons)
        ]
        if errors or home is None:
            return errors
        return Identifiers(home.home(), tuple(bsn for bsn in bsns if bsn is not None))

    def identifiers_v2(
        self, submission: SignalSubmissionV2, organisation: str
    ) -> IdentifiersV2 | list[FieldError]:
        """As `identifiers`, for v2: a placement's reference keyed to its shelter, a person's
        own reference to the publishing organisation."""
        errors: list[FieldError] = []
        event_id = submission.event_id  # a text only when a sealed value is opened
        home = self._home_v2(submission.household, event_id, errors)
        persons = tuple(
            self._person_v2(index, person, organisation, event_id, errors)
            for index, person in enumerate(submission.persons)
        )
        if errors or home is None:
            return errors
        return IdentifiersV2(home, persons)

    def _home_v2(
        self, household: HouseholdSubmissionV2, event_id: UUID, errors: list[FieldError]
    ) -> AddressSubmission | LocalIdentifier | None:
        placement = household.placement
        if placement is None:
            plain = plain_address(household.postcode, household.house_number, household.addition)
            return self._home(household.sealed_address, plain, event_id, errors)
        reference = self._reference(
            placement.reference,
            placement.sealed_reference,
            (PLACEMENT_REFERENCE_FIELD, f"household.placement.{SEALED_REFERENCE}"),
            event_id,
            errors,
        )
        return None if reference is None else LocalIdentifier(placement.shelter, reference)

    def _person_v2(
        self,
        index: int,
        person: PersonSubmissionV2,
        organisation: str,
        event_id: UUID,
        errors: list[FieldError],
    ) -> tuple[str | None, LocalIdentifier | None]:
        bsn = None
        if person.bsn is not None or person.sealed_bsn is not None:
            bsn = self._bsn(index, person, event_id, errors)
        reference = None
        if person.local_reference is not None or person.sealed_local_reference is not None:
            fields = (local_reference_field(index), f"persons.{index}.{SEALED_LOCAL_REFERENCE}")
            opened = self._reference(
                person.local_reference, person.sealed_local_reference, fields, event_id, errors
            )
            reference = None if opened is None else LocalIdentifier(organisation, opened)
        return bsn, reference

    def _reference(
        self,
        plain: str | None,
        sealed: SealedValue | None,
        fields: tuple[str, str],
        event_id: UUID,
        errors: list[FieldError],
    ) -> str | None:
        """A reference in clear (where allowed) or opened and validated as one sent so."""
        sealed_for, field = fields
        if sealed is None:
            return self._plain(plain, sealed_for, errors)
        text = self._open(sealed, event_id, sealed_for, field, errors)
        if text is None:
            return None
        try:
            return _REFERENCE.validate_python(text)
        except ValidationError as error:
            errors.extend(FieldError(field=field, reason=e["msg"]) for e in error.errors())
            return None

    def _home(
        self,
        sealed: SealedValue | None,
        plain: AddressSubmission | None,
        event_id: UUID,
        errors: list[FieldError],
    ) -> AddressSubmission | None:
        if plain is not None:
            return self._plain(plain, "household", errors)
        assert sealed is not None  # the model requires one of both
        field = f"household.{SEALED_ADDRESS}"
        text = self._open(sealed, event_id, ADDRESS_FIELD, field, errors)
        if text is None:
            return None
        try:
            return AddressSubmission.model_validate_json(text)
        except ValidationError as error:
            errors.extend(field_errors(error, prefix=f"{field}."))
            return None

    def _bsn(
        self,
        index: int,
        person: PersonSubmission | PersonSubmissionV2,
        event_id: UUID,
        errors: list[FieldError],
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
        event_id: UUID,
        sealed_for: str,
        field: str,
        errors: list[FieldError],
    ) -> str | None:
        try:
            return open_sealed(sealed, self.keyring, SealingContext(str(event_id), sealed_for))
        except UnopenableError as error:
            errors.append(FieldError(field=field, reason=str(error)))
            return None
