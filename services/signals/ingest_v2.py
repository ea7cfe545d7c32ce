"""Ingest of a signal.v2: the same screening, vault deposit, deduplication and publishing as v1
(services.signals.service), with v2's pseudonyms. A person by the publisher's own reference is
`pl.` keyed over the organisation and the reference, a household in a shelter `hs.` keyed over
the shelter and its placement reference; a person named by both BSN and reference is the BSN's
`p.` with the reference's `pl.` as its local pseudonym (identification, docs/contracts.md). The
references go to the identity vault beside the BSNs and addresses, and nowhere else."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from contracts.signal_types_v2 import sector_may_publish_v2
from contracts.signal_v2 import PersonRefV2, SignalEventV2
from privacy.actors import Publisher
from privacy.addresses import HomeAddress
from privacy.pseudonyms import LocalIdentifier, Pseudonymiser
from privacy.storage.vault import Identity
from services.signals.answers import Outcome, SignalResult, rejected, screened
from services.signals.identifiers import IdentifierOpener, IdentifiersV2
from services.signals.submission_v2 import NOT_FREE_TEXT_V2, SignalSubmissionV2

_submission_v2 = TypeAdapter(SignalSubmissionV2)


def prepare_v2(
    opener: IdentifierOpener,
    publisher: Publisher,
    raw: Any,
    received_at: datetime,
    pseudonymiser: Pseudonymiser,
) -> tuple[SignalEventV2, bool, Identity] | SignalResult:
    """As v1's: the pseudonymised v2 event, whether the publisher gave reported-at, and the
    identity for the vault; or the rejection (each field named, no value echoed)."""
    submission = screened(
        raw,
        _submission_v2,
        NOT_FREE_TEXT_V2,
        lambda s: sector_may_publish_v2(publisher.sector, s.signal_type),
        publisher,
    )
    if isinstance(submission, SignalResult):
        return submission
    identifiers = opener.identifiers_v2(submission, publisher.organisation)
    if isinstance(identifiers, list):
        return SignalResult(
            event_id=submission.event_id, status=Outcome.REJECTED, errors=identifiers
        )
    home = _household_identifier(identifiers)
    household = (
        pseudonymiser.household(home)
        if isinstance(home, HomeAddress)
        else pseudonymiser.placement(home)
    )
    # Per person: the pseudonym it travels under, and the vault's (pseudonym, identifier) rows
    named: list[tuple[str, str | None]] = []
    vault_rows: list[tuple[str, str]] = []
    for bsn, reference in identifiers.persons:
        local = None if reference is None else pseudonymiser.local_person(reference)
        if reference is not None and local is not None:
            vault_rows.append((local, reference.canonical()))
        if bsn is not None:
            person = pseudonymiser.person(bsn)
            vault_rows.append((person, bsn))
            named.append((person, local))
        else:
            assert local is not None  # the submission names every person by one or the other
            named.append((local, None))
    try:
        event = SignalEventV2(
            event_id=submission.event_id,
            organisation=publisher.organisation,
            sector=publisher.sector,
            signal_type=submission.signal_type,
            severity=submission.severity,
            forms_of_violence=tuple(submission.forms_of_violence),
            reported_by=submission.reported_by,
            prosecution=submission.prosecution,
            occurred_at=submission.occurred_at,
            reported_at=submission.reported_at or received_at,
            received_at=received_at,
            region=submission.region,
            household=household,
            persons=tuple(
                PersonRefV2(
                    pseudonym=pseudonym,
                    roles=tuple(person.roles),
                    age=person.age,
                    unborn_child_of=(
                        None if person.unborn_child_of is None else named[person.unborn_child_of][0]
                    ),
                    local_pseudonym=local,
                )
                for person, (pseudonym, local) in zip(submission.persons, named, strict=True)
            ),
            pseudonym_key_id=pseudonymiser.key_id,
        )
    except ValidationError as error:
        return rejected(submission.event_id, error)
    identity = Identity(household, home, tuple(dict.fromkeys(vault_rows)))
    return event, submission.reported_at is not None, identity


def _household_identifier(identifiers: IdentifiersV2) -> HomeAddress | LocalIdentifier:
    """The normalised home address, or the shelter's placement as it is."""
    home = identifiers.home
    return home if isinstance(home, LocalIdentifier) else home.home()
