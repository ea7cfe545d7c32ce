"""Small JSON work files that let a long audit run stop and resume where it was.

They are written atomically (a run killed mid-write leaves the previous state) and readable by
the owner only: a replay's work file points at a database of pseudonymised signals.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import orjson


def save(path: Path, state: dict[str, Any]) -> None:
    """Replaces the work file with `state`, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(orjson.dumps(state, option=orjson.OPT_INDENT_2))
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path) -> dict[str, Any] | None:
    """The saved state, or None when there is no work file."""
    try:
        state: dict[str, Any] = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    return state
