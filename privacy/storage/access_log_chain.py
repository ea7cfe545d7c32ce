"""The access log's hash chain: what each entry's hash covers and where a chain breaks.

An entry's hash covers its sequence number, time, kind, stored payload and the previous entry's
hash; since format 2 also its period, subject digest and sealed bytes, exactly as stored. So the
chain verifies without any key, also after retention destroyed a period's key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class ChainFault:
    """Where the chain breaks and how."""

    seq: int
    problem: str


@dataclass(frozen=True)
class StoredSealing:
    """The format-2 columns of an entry as stored."""

    period: str
    subject_digest: str | None
    sealed: bytes | None


def entry_hash(
    seq: int,
    recorded_at: datetime,
    kind: str,
    payload: str,
    prev_hash: str,
    stored: StoredSealing | None = None,
) -> str:
    """The hash that chains an entry to its predecessor; over the stored bytes, sealed or not."""
    parts = [str(seq), utc(recorded_at).isoformat(), kind, payload, prev_hash]
    if stored is not None:
        sealed = "" if stored.sealed is None else bytes(stored.sealed).hex()
        parts += ["v2", stored.period, stored.subject_digest or "", sealed]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


class StoredRow(NamedTuple):
    """One entry's columns as stored, for verification."""

    seq: int
    recorded_at: datetime
    kind: str
    payload: str
    prev_hash: str
    entry_hash: str
    stored: StoredSealing | None


def stored_sealing(row: Any) -> StoredSealing | None:
    """The format-2 columns of a row, or None for an entry written before format 2."""
    if row["period"] is None:
        return None
    return StoredSealing(row["period"], row["subject_digest"], row["sealed"])


def chain_faults(rows: Iterable[StoredRow]) -> list[ChainFault]:
    """Every place where the chain of these rows (in sequence order) is broken."""
    faults: list[ChainFault] = []
    expected_seq, previous = 1, GENESIS_HASH
    for row in rows:
        seq = row.seq
        if seq != expected_seq:
            problem = (
                f"entries {expected_seq}..{seq - 1} missing"
                if seq > expected_seq
                else "sequence out of order"
            )
            faults.append(ChainFault(seq, problem))
        if row.prev_hash != previous:
            faults.append(
                ChainFault(
                    seq, "does not follow its predecessor (removed, inserted or reordered entry)"
                )
            )
        recomputed = entry_hash(
            seq, row.recorded_at, row.kind, row.payload, row.prev_hash, row.stored
        )
        if recomputed != row.entry_hash:
            faults.append(ChainFault(seq, "content changed"))
        expected_seq, previous = seq + 1, row.entry_hash
    return faults


def utc(moment: datetime) -> datetime:
    """UTC datetimes; SQLite returns naive values, which were stored as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
