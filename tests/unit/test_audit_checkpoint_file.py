"""The auditor's copy of the checkpoints only grows: exporting again adds only what is new, and a
file that is not a copy is refused with its line number rather than read as "no checkpoints"."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit.chain import GENESIS
from services.audit.checkpoint_file import (
    CheckpointFileError,
    append_checkpoints,
    read_checkpoint_file,
)
from services.audit.checkpoints import Checkpoint, new_checkpoint

KEY = Ed25519PrivateKey.generate()
NOW = datetime.now(UTC)


def _chain(count: int, store: str = "store-a") -> list[Checkpoint]:
    made: list[Checkpoint] = []
    for seq in range(1, count + 1):
        previous = made[-1] if made else None
        at = seq * 10
        made.append(new_checkpoint(KEY, store, seq, previous, at, at, GENESIS, None, NOW))
    return made


def test_exporting_again_appends_only_the_new_checkpoints_and_never_removes_one(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "copy.jsonl"
    grown = _chain(5)
    assert [c.seq for c in append_checkpoints(copy, grown[:3])] == [1, 2, 3]
    assert append_checkpoints(copy, grown[:2]) == []  # the database lost seq 3: kept here
    assert [c.seq for c in append_checkpoints(copy, grown)] == [4, 5]
    assert [c.body for c in read_checkpoint_file(copy, "store-a")] == [c.body for c in grown]
    assert read_checkpoint_file(copy, "store-b") == []


def test_a_file_that_is_not_a_copy_is_refused_with_its_line(tmp_path: Path) -> None:
    copy = tmp_path / "copy.jsonl"
    append_checkpoints(copy, _chain(1))
    with copy.open("ab") as file:
        file.write(b"not a checkpoint\n")
    with pytest.raises(CheckpointFileError, match="line 2"):
        read_checkpoint_file(copy)
