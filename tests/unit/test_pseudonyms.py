"""Keyed, versioned, domain-separated pseudonyms and the normalised home address."""

from __future__ import annotations

import base64
import json
import random
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from contracts.bsn import synthetic_bsn
from contracts.pseudonyms import (
    HouseholdPseudonym,
    KeyId,
    PersonPseudonym,
    RecipientId,
    RecipientPseudonym,
)
from privacy.addresses import HomeAddress, InvalidAddressError
from privacy.pseudonyms import Pseudonymiser, PseudonymKeyring

PROPERTY = settings(max_examples=50, deadline=None)
HOUSEHOLD = TypeAdapter(HouseholdPseudonym)
PERSON = TypeAdapter(PersonPseudonym)
KEY_ID = TypeAdapter(KeyId)
RECIPIENT = TypeAdapter(RecipientPseudonym)

# One keyring for the property tests (hypothesis does not mix with function-scoped fixtures).
_SHARED_KEYRING = PseudonymKeyring(current="k1", keys={"k1": bytes(range(32))})

bsns = st.integers(min_value=0, max_value=2**32).map(lambda s: synthetic_bsn(random.Random(s)))
addresses = st.builds(
    HomeAddress.normalised,
    postcode=st.tuples(
        st.integers(1000, 9999), st.text(alphabet="ABCDEFGHJKLMNPRSTVWXZ", min_size=2, max_size=2)
    ).map(lambda parts: f"{parts[0]}{parts[1]}"),
    house_number=st.integers(1, 99999),
    addition=st.text(alphabet="ABCDEFGHIJ0123456789", max_size=3),
)

recipient_ids = st.from_regex(r"\A[a-z][a-z0-9-]{1,39}\Z")


def _digest(pseudonym: str) -> str:
    return pseudonym.rsplit(".", 1)[1]


def _key_b64(seed: int) -> str:
    return base64.b64encode(random.Random(seed).randbytes(32)).decode()


def _write_keyring(path: Path, current: str, keys: dict[str, str]) -> Path:
    path.write_text(json.dumps({"current": current, "keys": keys}), encoding="utf-8")
    return path


# --- keyring file -------------------------------------------------------------------------------


def test_keyring_created_owner_only_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "k.json"
    first = PseudonymKeyring.load_or_create(path)
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    content = path.read_bytes()
    assert first.current == "k1"
    assert KEY_ID.validate_python(first.current) == "k1"
    assert all(len(key) == 32 for key in first.keys.values())

    second = PseudonymKeyring.load_or_create(path)
    assert path.read_bytes() == content
    assert second == first
    bsn = synthetic_bsn(random.Random(1))
    assert Pseudonymiser(first).person(bsn) == Pseudonymiser(second).person(bsn)


def test_keyring_in_existing_directory(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    PseudonymKeyring.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_fresh_keyrings_have_different_keys(tmp_path: Path) -> None:
    one = PseudonymKeyring.load_or_create(tmp_path / "a" / "k.json")
    two = PseudonymKeyring.load_or_create(tmp_path / "b" / "k.json")
    assert one.keys["k1"] != two.keys["k1"]
    bsn = synthetic_bsn(random.Random(2))
    address = HomeAddress.normalised("1234AB", 12)
    assert Pseudonymiser(one).person(bsn) != Pseudonymiser(two).person(bsn)
    assert Pseudonymiser(one).household(address) != Pseudonymiser(two).household(address)


@pytest.mark.parametrize(
    ("current", "keys"),
    [
        ("k2", {"k1": _key_b64(1)}),  # current key missing
        ("k1", {"k1": base64.b64encode(b"short").decode()}),  # key too short
        ("k1", {"k1": _key_b64(1), "k2": base64.b64encode(bytes(33)).decode()}),
    ],
)
def test_malformed_keyring_refused(tmp_path: Path, current: str, keys: dict[str, str]) -> None:
    path = _write_keyring(tmp_path / "k.json", current, keys)
    with pytest.raises(ValueError, match="malformed"):
        PseudonymKeyring.load_or_create(path)


# --- pseudonyms ---------------------------------------------------------------------------------


def test_same_identifier_same_key_same_pseudonym(tmp_path: Path) -> None:
    keyring = PseudonymKeyring.load_or_create(tmp_path / "k.json")
    bsn = synthetic_bsn(random.Random(3))
    address = HomeAddress.normalised("1234AB", 12, "a")
    one, two = Pseudonymiser(keyring), Pseudonymiser(keyring)
    assert one.person(bsn) == two.person(bsn) == one.person(bsn, key_id="k1")
    assert one.household(address) == two.household(address)
    assert one.key_id == "k1"


@PROPERTY
@given(bsns, addresses)
def test_pseudonyms_match_contract_patterns(bsn: str, address: HomeAddress) -> None:
    pseudonymiser = Pseudonymiser(_SHARED_KEYRING)
    person = pseudonymiser.person(bsn)
    household = pseudonymiser.household(address)
    assert PERSON.validate_python(person) == person
    assert HOUSEHOLD.validate_python(household) == household
    assert person.startswith("p.k1.")
    assert household.startswith("hh.k1.")
    with pytest.raises(ValueError):
        HOUSEHOLD.validate_python(person)
    with pytest.raises(ValueError):
        PERSON.validate_python(household)


@PROPERTY
@given(bsns, addresses)
def test_pseudonym_never_contains_identifier(bsn: str, address: HomeAddress) -> None:
    pseudonymiser = Pseudonymiser(_SHARED_KEYRING)
    person = pseudonymiser.person(bsn)
    household = pseudonymiser.household(address)
    assert bsn not in person
    assert address.postcode.lower() not in household.lower()
    assert address.canonical() not in household


@PROPERTY
@given(addresses)
def test_household_and_person_domains_are_separated(address: HomeAddress) -> None:
    """The same text pseudonymised in two domains gives unrelated digests."""
    pseudonymiser = Pseudonymiser(_SHARED_KEYRING)
    canonical = address.canonical()
    as_household = pseudonymiser.household(address)
    as_person = pseudonymiser.person(canonical)  # the same identifier text, person domain
    assert _digest(as_household) != _digest(as_person)
    same_positions = sum(
        a == b for a, b in zip(_digest(as_household), _digest(as_person), strict=True)
    )
    assert same_positions < 12  # about 2 of 32 hex digits agree by chance


@PROPERTY
@given(st.lists(bsns, min_size=2, max_size=20, unique=True))
def test_distinct_bsns_get_distinct_pseudonyms(numbers: list[str]) -> None:
    pseudonymiser = Pseudonymiser(_SHARED_KEYRING)
    assert len({pseudonymiser.person(bsn) for bsn in numbers}) == len(numbers)


def test_pseudonym_of_another_key_version(tmp_path: Path) -> None:
    two_keys = PseudonymKeyring.load_or_create(
        _write_keyring(tmp_path / "k.json", "k2", {"k1": _key_b64(1), "k2": _key_b64(2)})
    )
    only_old = PseudonymKeyring(current="k1", keys={"k1": two_keys.keys["k1"]})
    pseudonymiser = Pseudonymiser(two_keys)
    bsn = synthetic_bsn(random.Random(4))
    address = HomeAddress.normalised("9999ZZ", 1)

    assert pseudonymiser.key_id == "k2"
    current = pseudonymiser.person(bsn)
    old = pseudonymiser.person(bsn, key_id="k1")
    assert current.startswith("p.k2.")
    assert old.startswith("p.k1.")
    assert _digest(old) != _digest(current)
    # After rotation the old version still gives the pseudonyms made before it.
    assert old == Pseudonymiser(only_old).person(bsn)
    assert pseudonymiser.household(address, key_id="k1") == Pseudonymiser(only_old).household(
        address
    )
    assert pseudonymiser.household(address).startswith("hh.k2.")


# --- recipient domains -------------------------------------------------------------------------


def _internal(bsn: str, address: HomeAddress, key_id: str | None = None) -> tuple[str, str]:
    """The radar's own household and person pseudonyms, which recipient pseudonyms are made of."""
    pseudonymiser = Pseudonymiser(_SHARED_KEYRING)
    return pseudonymiser.household(address, key_id), pseudonymiser.person(bsn, key_id)


@PROPERTY
@given(bsns, addresses, recipient_ids)
def test_recipient_pseudonym_is_stable_per_recipient_and_key(
    bsn: str, address: HomeAddress, recipient: str
) -> None:
    household, person = _internal(bsn, address)
    one = Pseudonymiser(_SHARED_KEYRING).for_recipient(recipient)
    two = Pseudonymiser(_SHARED_KEYRING).for_recipient(recipient, key_id="k1")
    assert one.household(household) == two.household(household)
    assert one.person(person) == two.person(person)
    for made in (one.household(household), one.person(person)):
        assert RECIPIENT.validate_python(made) == made
        assert made.startswith(f"x.{recipient}.k1.")
    assert one.household(household) != one.person(person)


@PROPERTY
@given(
    st.lists(bsns, min_size=1, max_size=10, unique=True),
    addresses,
    st.lists(recipient_ids, min_size=2, max_size=2, unique=True),
)
def test_two_recipients_share_no_pseudonym(
    numbers: list[str], address: HomeAddress, recipients: list[str]
) -> None:
    """Everything one recipient could receive is disjoint from what another could, digest by
    digest, so their extracts cannot be joined on a pseudonym."""
    household = Pseudonymiser(_SHARED_KEYRING).household(address)
    persons = [Pseudonymiser(_SHARED_KEYRING).person(bsn) for bsn in numbers]
    digests = []
    for recipient in recipients:
        domain = Pseudonymiser(_SHARED_KEYRING).for_recipient(recipient)
        made = [domain.household(household), *(domain.person(p) for p in persons)]
        assert len({_digest(m) for m in made}) == len(made)
        digests.append({_digest(m) for m in made})
    assert not digests[0] & digests[1]


@PROPERTY
@given(bsns, addresses, recipient_ids)
def test_recipient_pseudonym_hides_the_internal_one(
    bsn: str, address: HomeAddress, recipient: str
) -> None:
    domain = Pseudonymiser(_SHARED_KEYRING).for_recipient(recipient)
    household, person = _internal(bsn, address)
    for internal, made in (
        (household, domain.household(household)),
        (person, domain.person(person)),
    ):
        assert made != internal
        assert internal not in made
        assert _digest(internal) not in made
        assert bsn not in made


def test_recipient_pseudonyms_follow_the_key_version(tmp_path: Path) -> None:
    """Made under the current key; an older version still gives the older extracts' ones."""
    two_keys = PseudonymKeyring.load_or_create(
        _write_keyring(tmp_path / "k.json", "k2", {"k1": _key_b64(1), "k2": _key_b64(2)})
    )
    only_old = PseudonymKeyring(current="k1", keys={"k1": two_keys.keys["k1"]})
    household = Pseudonymiser(only_old).household(HomeAddress.normalised("1234AB", 5))
    current = Pseudonymiser(two_keys).for_recipient("wodc-research").household(household)
    old = Pseudonymiser(two_keys).for_recipient("wodc-research", "k1").household(household)
    assert current.startswith("x.wodc-research.k2.")
    assert old == Pseudonymiser(only_old).for_recipient("wodc-research").household(household)
    assert _digest(old) != _digest(current)


@pytest.mark.parametrize("recipient", ["", "x", "Wodc", "wodc.research", "wodc research", "1wodc"])
def test_recipient_id_that_would_break_the_format_refused(recipient: str) -> None:
    with pytest.raises(ValueError):
        Pseudonymiser(_SHARED_KEYRING).for_recipient(recipient)
    with pytest.raises(ValueError):
        TypeAdapter(RecipientId).validate_python(recipient)


@pytest.mark.parametrize("internal", ["123456782", "1234AB|12|", "x.wodc.k1." + "a" * 32, ""])
def test_only_internal_pseudonyms_get_recipient_pseudonyms(internal: str) -> None:
    """A plain identifier (or a recipient's pseudonym) is never hashed into an extract."""
    domain = Pseudonymiser(_SHARED_KEYRING).for_recipient("inspectie-jenv")
    with pytest.raises(ValueError):
        domain.household(internal)
    with pytest.raises(ValueError):
        domain.person(internal)


# --- addresses ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "postcode", ["1234 ab", "1234AB", " 1234ab ", "1234ab", "1234 AB", "1234aB"]
)
def test_postcode_spellings_have_one_canonical_form(postcode: str) -> None:
    address = HomeAddress.normalised(postcode, 12)
    assert address == HomeAddress("1234AB", 12, "")
    assert address.canonical() == "1234AB|12|"


@pytest.mark.parametrize("addition", ["a", "A", "-a", "-A", " a", "a ", " - a"])
def test_addition_spellings_have_one_canonical_form(addition: str) -> None:
    address = HomeAddress.normalised("1234AB", 12, addition)
    assert address.addition == "A"
    assert address.canonical() == "1234AB|12|A"


def test_equivalent_addresses_share_a_household_pseudonym(tmp_path: Path) -> None:
    pseudonymiser = Pseudonymiser(PseudonymKeyring.load_or_create(tmp_path / "k.json"))
    spellings = [
        HomeAddress.normalised("1234 ab", 12, "-a"),
        HomeAddress.normalised("1234AB", 12, "A"),
        HomeAddress.normalised(" 1234ab ", 12, " a"),
    ]
    assert len({pseudonymiser.household(address) for address in spellings}) == 1
    assert pseudonymiser.household(spellings[0]) != pseudonymiser.household(
        HomeAddress.normalised("1234AB", 12, "B")
    )
    assert pseudonymiser.household(spellings[0]) != pseudonymiser.household(
        HomeAddress.normalised("1234AB", 12)
    )


@pytest.mark.parametrize(
    "postcode", ["0123AB", "1234A", "12345AB", "1234ABC", "ABCD12", "", "1234 A B", "1234-AB"]
)
def test_invalid_postcode_names_the_part(postcode: str) -> None:
    with pytest.raises(InvalidAddressError) as raised:
        HomeAddress.normalised(postcode, 12)
    assert raised.value.part == "postcode"
    assert "postcode" in str(raised.value)


@pytest.mark.parametrize("house_number", [0, -1, 100000])
def test_invalid_house_number_names_the_part(house_number: int) -> None:
    with pytest.raises(InvalidAddressError) as raised:
        HomeAddress.normalised("1234AB", house_number)
    assert raised.value.part == "house_number"


@pytest.mark.parametrize("addition", ["ABCDEFG", "a/b", "1.2"])
def test_invalid_addition_names_the_part(addition: str) -> None:
    with pytest.raises(InvalidAddressError) as raised:
        HomeAddress.normalised("1234AB", 12, addition)
    assert raised.value.part == "addition"


def test_house_number_bounds_accepted() -> None:
    assert HomeAddress.normalised("1000AA", 1).house_number == 1
    assert HomeAddress.normalised("9999ZZ", 99999).house_number == 99999


# --- pinned values -------------------------------------------------------------------------------


def test_pseudonyms_are_the_bytes_every_stored_record_holds() -> None:
    """Every stored event, vault row and receipt names households and persons by these exact
    pseudonyms: a faster keyed hash (a copied keyed prototype) must make the same bytes as the
    first version did, under every domain and key version."""
    keyring = PseudonymKeyring(
        current="k2", keys={"k1": bytes(range(32)), "k2": bytes(range(32, 64))}
    )
    pseudonymiser = Pseudonymiser(keyring)
    bsn = synthetic_bsn(random.Random(15))
    home = HomeAddress.normalised(postcode="1234AB", house_number=12, addition="A")
    recipient = pseudonymiser.for_recipient("gemeente-x")
    assert [
        pseudonymiser.household(home),
        pseudonymiser.household(home, "k1"),
        pseudonymiser.person(bsn),
        pseudonymiser.person(bsn, "k1"),
        recipient.household(pseudonymiser.household(home)),
        recipient.person(pseudonymiser.person(bsn)),
        pseudonymiser.person(bsn),  # the keyed prototype is copied, never used up
    ] == [
        "hh.k2.23245bbb2f8e8c57c6687ce01b739faf",
        "hh.k1.4c6ec657990cc316c965b1c2981c58bb",
        "p.k2.688f648da8dec2023d3455c98f960682",
        "p.k1.2ce5727470ae65d5ddd4b52788eceb5d",
        "x.gemeente-x.k2.fe6ca396f8209281c6d6d716df5bd42c",
        "x.gemeente-x.k2.fd15dff9cea7466c07501f60fdc674c8",
        "p.k2.688f648da8dec2023d3455c98f960682",
    ]
