"""Rotating the pseudonymisation key: a new version makes new pseudonyms, older versions keep
making exactly the pseudonyms they made before, and a running service picks the rotation up."""

from __future__ import annotations

import json
import random
import stat
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.bsn import synthetic_bsn
from privacy.addresses import HomeAddress
from privacy.pseudonyms import Pseudonymiser, PseudonymKeyFile, PseudonymKeyring

HOME = HomeAddress.normalised("1012 AB", 1)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32), rotations=st.integers(1, 4))
def test_same_identifier_and_key_version_give_the_same_pseudonym_across_rotations(
    seed: int, rotations: int
) -> None:
    bsn = synthetic_bsn(random.Random(seed))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "keys.json"
        first = Pseudonymiser(PseudonymKeyring.load_or_create(path))
        made = {"k1": (first.person(bsn), first.household(HOME))}
        for _ in range(rotations):
            key_id = PseudonymKeyring.rotate(path)
            now = Pseudonymiser(PseudonymKeyring.load_or_create(path))
            assert now.key_id == key_id
            made[key_id] = (now.person(bsn), now.household(HOME))
            for version, pseudonyms in made.items():
                assert (now.person(bsn, version), now.household(HOME, version)) == pseudonyms
        persons = [p for p, _ in made.values()]
        assert len(set(persons)) == len(persons), "each version makes its own pseudonym"
        assert all(p.startswith(f"p.{v}.") for v, (p, _) in made.items())


def test_rotation_keeps_the_file_owner_only_and_lists_earlier_versions(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    PseudonymKeyring.load_or_create(path)
    assert [PseudonymKeyring.rotate(path) for _ in range(2)] == ["k2", "k3"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    keyring = PseudonymKeyring.load_or_create(path)
    assert keyring.current == "k3" and keyring.earlier_versions() == ["k2", "k1"]
    assert set(json.loads(path.read_text())["keys"]) == {"k1", "k2", "k3"}


def test_a_running_service_moves_to_the_new_key_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    keys = PseudonymKeyFile(path)
    before = keys.pseudonymiser()
    assert keys.pseudonymiser() is before, "unchanged file: nothing reread"
    PseudonymKeyring.rotate(path)
    after = keys.pseudonymiser()
    assert (before.key_id, after.key_id) == ("k1", "k2")
    assert after.household(HOME, "k1") == before.household(HOME)
