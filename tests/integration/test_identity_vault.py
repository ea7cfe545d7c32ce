"""The identity vault on real SQLite and PostgreSQL: identifiers in, only ciphertext stored,
re-identification out; per-household keys; a lost key-encryption key makes everything
unreadable; after a pseudonym key rotation one person stays one person."""

from __future__ import annotations

import random
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from contracts.bsn import synthetic_bsn
from privacy.addresses import HomeAddress
from privacy.key_encryption import FileKeyEncryptionKey, UnreadableError
from privacy.lookup_digests import LookupDigests
from privacy.pseudonyms import Pseudonymiser, PseudonymKeyring
from privacy.storage.vault import Identity, IdentityVault, vault_identities, vault_subject_keys
from services.database import Database
from tests.support.inspection import database_bytes, identifiers_found

PARENT, CHILD, OTHER = "111222333", "123456782", "908301662"  # synthetic, pass the elfproef
HOME = HomeAddress.normalised("3511 AB", 12, "bis")
ELSEWHERE = HomeAddress.normalised("9711 CD", 3)


def _identity(pseudonymiser: Pseudonymiser, address: HomeAddress, *bsns: str) -> Identity:
    return Identity(
        pseudonymiser.household(address),
        address,
        tuple((pseudonymiser.person(b), b) for b in bsns),
    )


def _keys(path: Path) -> Pseudonymiser:
    return Pseudonymiser(PseudonymKeyring.load_or_create(path))


def _vault(database: Database, directory: Path) -> IdentityVault:
    """A vault on the database with the KEK and lookup key in `directory`."""
    kek = FileKeyEncryptionKey(directory / "kek.json")
    return IdentityVault(database.engine(), kek, LookupDigests.load_or_create(directory))


@pytest.fixture
def vault(database: Database, tmp_path: Path) -> IdentityVault:
    return _vault(database, tmp_path)


def test_identities_go_in_encrypted_and_come_out_for_reidentification(
    vault: IdentityVault, database: Database, tmp_path: Path
) -> None:
    keys = _keys(tmp_path / "pseudonyms.json")
    family = _identity(keys, HOME, PARENT, CHILD)
    assert vault.deposit([family, family], keys) == [(), ()]

    identity = vault.household_identity(family.household)
    assert identity is not None
    assert identity.address == HOME
    assert identity.persons == {keys.person(PARENT): PARENT, keys.person(CHILD): CHILD}
    assert vault.person_bsn(keys.person(CHILD)) == CHILD
    assert vault.household_identity(keys.household(ELSEWHERE)) is None
    stored = database_bytes(database)
    assert identifiers_found(stored, [PARENT, CHILD, "3511AB", "3511AB|12|BIS"]) == []


def test_each_household_has_its_own_key_and_ciphertext_is_bound_to_its_row(
    vault: IdentityVault, database: Database, tmp_path: Path
) -> None:
    keys = _keys(tmp_path / "pseudonyms.json")
    vault.deposit(
        [_identity(keys, HOME, PARENT, CHILD), _identity(keys, ELSEWHERE, OTHER, CHILD)], keys
    )
    engine = database.engine()
    with engine.begin() as connection:
        assert len(connection.execute(select(vault_subject_keys)).all()) == 2
        # the child lives in both homes: one row under each household's key
        child_rows = connection.execute(
            select(vault_identities).where(
                vault_identities.c.pseudonym == vault.digests.person(keys.person(CHILD))
            )
        ).all()
        assert len(child_rows) == 2 and child_rows[0].subject != child_rows[1].subject
        # a ciphertext moved to another row does not open there
        parent = connection.execute(
            select(vault_identities.c.sealed).where(
                vault_identities.c.pseudonym == vault.digests.person(keys.person(PARENT))
            )
        ).scalar_one()
        connection.execute(
            update(vault_identities)
            .where(vault_identities.c.pseudonym == vault.digests.person(keys.person(OTHER)))
            .values(sealed=parent)
        )
    with pytest.raises(UnreadableError):
        vault.household_identity(keys.household(ELSEWHERE))
    assert vault.person_bsn(keys.person(PARENT)) == PARENT


def test_without_the_key_encryption_key_nothing_in_the_vault_can_be_read(
    vault: IdentityVault, database: Database, tmp_path: Path
) -> None:
    keys = _keys(tmp_path / "pseudonyms.json")
    family = _identity(keys, HOME, PARENT, CHILD)
    vault.deposit([family], keys)
    (tmp_path / "kek.json").unlink()  # lost: a new KEK file is made, which wraps nothing here
    stranger = _vault(database, tmp_path)
    with pytest.raises(UnreadableError):
        stranger.household_identity(family.household)
    with pytest.raises(UnreadableError):
        stranger.person_bsn(keys.person(CHILD))


def test_after_a_key_rotation_new_pseudonyms_are_linked_to_the_first_ones(
    vault: IdentityVault, tmp_path: Path
) -> None:
    path = tmp_path / "pseudonyms.json"
    k1 = _keys(path)
    vault.deposit([_identity(k1, HOME, PARENT, CHILD)], k1)
    assert PseudonymKeyring.rotate(path) == "k2"
    k2 = _keys(path)

    family = _identity(k2, HOME, PARENT, CHILD, OTHER)  # OTHER is first seen after the rotation
    assert vault.links([family], k2) == vault.deposit([family], k2)
    (links,) = vault.deposit([family], k2)
    assert {(link.kind, link.pseudonym, link.known_as) for link in links} == {
        ("household", k2.household(HOME), k1.household(HOME)),
        ("person", k2.person(PARENT), k1.person(PARENT)),
        ("person", k2.person(CHILD), k1.person(CHILD)),
    }
    assert vault.household_pseudonym(HOME, k2) == k1.household(HOME)
    assert vault.household_pseudonym(ELSEWHERE, k2) == k2.household(ELSEWHERE)
    identity = vault.household_identity(k2.household(HOME))
    assert identity is not None and identity.household == k1.household(HOME)
    assert identity.persons == {k1.person(PARENT): PARENT, k1.person(CHILD): CHILD,
                                k2.person(OTHER): OTHER}  # fmt: skip
    # the child seen after the rotation at another address is still the first-known child
    (elsewhere,) = vault.deposit([_identity(k2, ELSEWHERE, CHILD)], k2)
    assert [(link.kind, link.known_as) for link in elsewhere] == [("person", k1.person(CHILD))]


def test_looking_up_links_stores_nothing(vault: IdentityVault, tmp_path: Path) -> None:
    keys = _keys(tmp_path / "pseudonyms.json")
    family = _identity(keys, HOME, PARENT)
    assert vault.links([family], keys) == [()]
    assert vault.household_identity(family.household) is None


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    plan=st.lists(st.tuples(st.booleans(), st.integers(0, 3), st.integers(0, 1)), max_size=12),
)
def test_any_interleaving_of_rotations_and_signals_keeps_one_person_one_person(
    seed: int, plan: list[tuple[bool, int, int]]
) -> None:
    """Whatever the order of rotations and deposits, every pseudonym of a person, under any
    key version and in any household, leads to the pseudonym the radar first knew."""
    rng = random.Random(seed)
    people = [synthetic_bsn(rng) for _ in range(4)]
    homes = [HOME, ELSEWHERE]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "pseudonyms.json"
        db = Database(f"sqlite:///{Path(directory) / 'vault.db'}")
        vault = _vault(db, Path(directory))
        first: dict[str, str] = {}
        for rotate, who, where in plan:
            if rotate:
                PseudonymKeyring.rotate(path)
            keys = _keys(path)
            bsn = people[who % len(people)]
            identity = _identity(keys, homes[where], bsn)
            (links,) = vault.deposit([identity], keys)
            person = keys.person(bsn)
            known = {link.pseudonym: link.known_as for link in links}.get(person, person)
            assert first.setdefault(bsn, known) == known


def test_a_batch_settles_shared_people_and_rotated_homes_together(
    vault: IdentityVault, tmp_path: Path
) -> None:
    """One deposit of many signals: the same child in two homes and twice in one home, a home
    known under the previous key, a home new to the radar."""
    path = tmp_path / "pseudonyms.json"
    k1 = _keys(path)
    vault.deposit([_identity(k1, HOME, PARENT, CHILD)], k1)
    PseudonymKeyring.rotate(path)
    k2 = _keys(path)
    batch = [
        _identity(k2, HOME, CHILD),
        _identity(k2, ELSEWHERE, OTHER, CHILD),
        _identity(k2, HOME, PARENT, CHILD),
    ]
    first, elsewhere, again = vault.deposit(batch, k2)
    assert {(x.kind, x.known_as) for x in first} == {
        ("household", k1.household(HOME)),
        ("person", k1.person(CHILD)),
    }
    assert [(x.kind, x.known_as) for x in elsewhere] == [("person", k1.person(CHILD))]
    assert {x.known_as for x in again} == {k1.household(HOME), k1.person(PARENT), k1.person(CHILD)}
    assert vault.deposit(batch, k2) == [first, elsewhere, again], "a second time changes nothing"
    home = vault.household_identity(k1.household(HOME))
    assert home is not None and home.persons == {k1.person(PARENT): PARENT, k1.person(CHILD): CHILD}
    other = vault.household_identity(k2.household(ELSEWHERE))
    assert other is not None
    assert other.persons == {k2.person(OTHER): OTHER, k1.person(CHILD): CHILD}


def test_ingest_processes_meeting_a_new_home_at_once_give_it_one_key(
    database: Database, tmp_path: Path
) -> None:
    """Several ingest processes (vaults with their own memory) deposit the same new homes at
    the same moment: each home ends with one row and one key, and all agree on it."""
    keys = _keys(tmp_path / "pseudonyms.json")
    kek = FileKeyEncryptionKey(tmp_path / "kek.json")
    digests = LookupDigests.load_or_create(tmp_path)
    vaults = [IdentityVault(database.engine(), kek, digests) for _ in range(6)]
    homes = [HomeAddress.normalised("1234 AB", number) for number in range(1, 21)]
    rng = random.Random(7)
    barrier = threading.Barrier(len(vaults))

    def deposit(vault: IdentityVault) -> None:
        for home in homes:
            barrier.wait()
            vault.deposit([_identity(keys, home, synthetic_bsn(rng))], keys)

    threads = [threading.Thread(target=deposit, args=(v,)) for v in vaults]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.engine().connect() as connection:
        rows = connection.execute(
            select(vault_identities.c.pseudonym).where(vault_identities.c.kind == "household")
        ).all()
    assert sorted(r.pseudonym for r in rows) == sorted(
        digests.household(keys.household(h)) for h in homes
    )
    for home in homes:
        identity = vaults[0].household_identity(keys.household(home))
        assert identity is not None and len(identity.persons) == len(vaults)
