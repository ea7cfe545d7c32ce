"""Secret key files on disk: created on first use with owner-only permissions, never in git."""

from __future__ import annotations

import os
from pathlib import Path


def write_secret_file(path: Path, content: bytes) -> None:
    """Writes a file readable by its owner only, creating its directory (also owner-only)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
