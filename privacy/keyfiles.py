"""Secret key files on disk: created on first use with owner-only permissions, never in git."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_secret_file(path: Path, content: bytes) -> bool:
    """Creates a file readable by its owner only, atomically: it appears complete or not at
    all. Returns False (and leaves the file alone) when another process created it first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
