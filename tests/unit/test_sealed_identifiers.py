"""Sealed identifiers on their own: HPKE to the radar's key, bound to format, key, signal and
field. Only synthetic BSNs (passing the elfproef) are used."""

from __future__ import annotations

import random
import stat
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.bsn import passes_elfproef, synthetic_bsn
from privacy.identifier_keys import IdentifierKeyring
from privacy.sealed_identifiers import (
    PublishedKey,
    SealedValue,
    SealingContext,
    UnopenableError,
    open_sealed,
    seal,
)

PROPERTY = settings(max_examples=60, deadline=None)
bsns = st.integers(min_value=0, max_value=2**32).map(lambda s: synthetic_bsn(random.Random(s)))
event_ids = st.uuids().map(str)
fields = st.integers(min_value=0, max_value=19).map(lambda i: f"persons.{i}.bsn")


@pytest.fixture(scope="module")
def keyring(tmp_path_factory: pytest.TempPathFactory) -> IdentifierKeyring:
    return IdentifierKeyring.load_or_create(tmp_path_factory.mktemp("keys"))


def published(keyring: IdentifierKeyring) -> PublishedKey:
    return PublishedKey.of(keyring.current)


@PROPERTY
@given(bsn=bsns, event_id=event_ids, field=fields)
def test_any_valid_bsn_sealed_opens_to_itself(
    keyring: IdentifierKeyring, bsn: str, event_id: str, field: str
) -> None:
    assert passes_elfproef(bsn)
    context = SealingContext(event_id, field)
    sealed = seal(bsn, published(keyring), context)
    assert bsn not in sealed.model_dump_json()
    assert open_sealed(sealed, keyring, context) == bsn


@PROPERTY
@given(bsn=bsns, event_id=event_ids, other_event=event_ids, field=fields, other_field=fields)
def test_a_sealed_value_opens_only_in_its_own_signal_and_field(
    keyring: IdentifierKeyring,
    bsn: str,
    event_id: str,
    other_event: str,
    field: str,
    other_field: str,
) -> None:
    sealed = seal(bsn, published(keyring), SealingContext(event_id, field))
    for wrong in (SealingContext(other_event, field), SealingContext(event_id, other_field)):
        if wrong != SealingContext(event_id, field):
            with pytest.raises(UnopenableError, match="cannot be opened"):
                open_sealed(sealed, keyring, wrong)


def test_sealing_twice_gives_different_ciphertexts(keyring: IdentifierKeyring) -> None:
    context = SealingContext(str(uuid.uuid4()), "persons.0.bsn")
    first, second = (seal("111222333", published(keyring), context) for _ in range(2))
    assert first.ephemeral_key != second.ephemeral_key
    assert first.ciphertext != second.ciphertext


def test_altered_relabelled_and_unknown_values_are_refused_without_the_value(
    keyring: IdentifierKeyring, tmp_path: Path
) -> None:
    context = SealingContext(str(uuid.uuid4()), "household.address")
    sealed = seal('{"postcode":"3511AB","house_number":12}', published(keyring), context)
    flipped = sealed.ciphertext[:-2] + ("A" if sealed.ciphertext[-2] != "A" else "B")
    stranger = IdentifierKeyring.load_or_create(tmp_path / "elsewhere")
    cases = {
        "altered": sealed.model_copy(update={"ciphertext": flipped}),
        "truncated": sealed.model_copy(update={"ciphertext": sealed.ciphertext[:10]}),
        "short key": sealed.model_copy(update={"ephemeral_key": "AAAA"}),
        "unknown key": sealed.model_copy(update={"key_id": stranger.current.key_id}),
        "foreign key": seal("111222333", published(stranger), context).model_copy(
            update={"key_id": keyring.current.key_id}
        ),
    }
    for what, value in cases.items():
        with pytest.raises(UnopenableError) as refused:
            open_sealed(value, keyring, context)
        assert "3511" not in str(refused.value), what


def test_envelope_is_versioned_base64url_json() -> None:
    with pytest.raises(ValueError):
        SealedValue.model_validate(
            {"version": 2, "key_id": "0" * 16, "ephemeral_key": "AA", "ciphertext": "AA"}
        )
    with pytest.raises(ValueError):
        SealedValue.model_validate(
            {"version": 1, "key_id": "0" * 16, "ephemeral_key": "A+/=", "ciphertext": "AA"}
        )


def test_keys_are_owner_only_and_a_rotation_keeps_opening_older_values(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    before = IdentifierKeyring.load_or_create(keys_dir)
    assert IdentifierKeyring.load_or_create(keys_dir).current.key_id == before.current.key_id
    context = SealingContext(str(uuid.uuid4()), "persons.0.bsn")
    sealed_to_old = seal("123456782", published(before), context)

    new_id = IdentifierKeyring.rotate(keys_dir)
    after = IdentifierKeyring.load_or_create(keys_dir)
    assert after.current.key_id == new_id != before.current.key_id
    assert open_sealed(sealed_to_old, after, context) == "123456782"
    assert open_sealed(seal("123456782", published(after), context), after, context)
    for key_file in keys_dir.glob("identifier-sealing-*.pem"):
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
