"""Secret key files on disk: created on first use with owner-only permissions, never in git."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey


def write_secret_file(path: Path, content: bytes) -> bool:
    """Creates a file readable by its owner only, atomically: it appears complete or not at
    all. Returns False (and leaves the file alone) when another process created it first."""
    with _complete_temporary(path, content) as temporary:
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock beside a key file, so two changes to it cannot interleave."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with path.with_name(f".{path.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def replace_secret_file(path: Path, content: bytes) -> None:
    """Replaces an owner-only file atomically: readers see the old or the new content."""
    with _complete_temporary(path, content) as temporary:
        os.replace(temporary, path)


@contextlib.contextmanager
def _complete_temporary(path: Path, content: bytes) -> Iterator[Path]:
    """An owner-only temporary file beside `path` holding `content`, synced; removed after."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        yield Path(temporary)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def versioned_key_files(
    keys_dir: Path, prefix: str, create: Callable[[Path], object]
) -> list[Path]:
    """The key files `<prefix>-<stamp>.pem` in the directory, oldest first; when there are none
    yet, `create` writes the first one. A lock makes two services starting at once make one."""
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (keys_dir / f".{prefix}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not any(keys_dir.glob(f"{prefix}-*.pem")):
            create(new_key_path(keys_dir, prefix))
        return sorted(keys_dir.glob(f"{prefix}-*.pem"))


def new_key_path(keys_dir: Path, prefix: str) -> Path:
    """Where a new version of a key goes: named by its creation time, so names sort by age."""
    return keys_dir / f"{prefix}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}.pem"


def write_private_key(path: Path, private_key: PrivateKeyTypes) -> None:
    """Stores a private key as unencrypted PKCS#8 PEM, owner-only (the keys dir is the
    protection; see write_secret_file)."""
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_secret_file(path, pem)


def public_key_id(public_key: Ed25519PublicKey | X25519PublicKey) -> str:
    """A key id derived from the public key, so it can never point at the wrong key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]
