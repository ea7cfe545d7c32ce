"""An external copy of the signed checkpoints in a file the auditor holds (one JSON line each).

The file only grows: `export` appends the checkpoints it does not hold yet, so checkpoints later
deleted from the database stay in it, and `verify --checkpoints-file` reads it instead of Kafka.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

import orjson

from services.audit.checkpoints import Checkpoint


class CheckpointFileError(ValueError):
    """The file is not a copy of checkpoints (or cannot be read)."""


def read_checkpoint_file(
    path: Path, store: str | Collection[str] | None = None
) -> list[Checkpoint]:
    """Every checkpoint in the file (of this store or these stores, when given), in the order
    written."""
    stores = None if store is None else ({store} if isinstance(store, str) else set(store))
    try:
        lines = path.read_bytes().splitlines()
    except OSError as error:
        raise CheckpointFileError(f"cannot read the checkpoints file {path}: {error}") from error
    found: list[Checkpoint] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            checkpoint = Checkpoint.from_message(line)
            checkpoint_store = checkpoint.store
        except (orjson.JSONDecodeError, KeyError, TypeError) as error:
            raise CheckpointFileError(f"{path} line {number} is not a signed checkpoint") from error
        if stores is None or checkpoint_store in stores:
            found.append(checkpoint)
    return found


def append_checkpoints(path: Path, checkpoints: list[Checkpoint]) -> list[Checkpoint]:
    """Appends the checkpoints the file does not hold yet (by store and seq); returns them."""
    held = {(c.store, c.seq) for c in read_checkpoint_file(path)} if path.exists() else set()
    new = [c for c in checkpoints if (c.store, c.seq) not in held]
    with path.open("ab") as file:  # created even when empty: the copy exists from day one
        if new:
            file.write(b"".join(c.message() + b"\n" for c in new))
        file.flush()
        os.fsync(file.fileno())
    return new
