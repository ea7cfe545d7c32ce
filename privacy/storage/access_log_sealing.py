"""Who an access-log entry is about, kept out of the log's bytes in clear (issue 24 item 5).

A database's pages, its write-ahead log, replicas and base backups keep rows long after a
delete, and the access log is append-only besides: so an entry never stores a household's or a
person's pseudonym as it is. What a query needs equality on (inzage's "who looked at me", the
notices of a household) is a keyed digest (privacy.lookup_digests); the pseudonyms themselves,
and any free text that names someone, are sealed under a data key of the entry's PERIOD (one
calendar month, UTC), stored wrapped by the KEK. The log's retention destroys a period's key
once the period is past the maximum: its subjects are then unreadable in every copy, while the
hash chain, which covers the stored bytes, still verifies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, MetaData, select
from sqlalchemy.engine import Connection

from contracts.pseudonyms import mask_pseudonyms
from contracts.pseudonyms_v2 import subject_kind_of
from privacy.key_encryption import KeyEncryptionKey, UnreadableError, seal, unseal
from privacy.lookup_digests import LookupDigests
from privacy.storage.subject_keys import SubjectKeyStore, subject_keys_table

SEALED_FIELDS = frozenset({"subject", "person", "household", "justification"})
"""Top-level payload fields always sealed; any other field whose value names a pseudonym is too."""
SUBJECT_FIELDS = ("subject", "person", "household")
"""Where an entry names whom it is about, in order of preference (its digest is stored)."""
SEALED_MARK = "_sealed"
PERIOD_PREFIX = "access-log:"

period_key_metadata = MetaData()
period_keys = subject_keys_table(period_key_metadata, "access_log_period_keys")


def period_of(moment: datetime) -> str:
    """The log period an entry recorded at `moment` belongs to: its calendar month in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def period_end(period: str) -> datetime:
    """The first moment after the period (the start of the next month, UTC)."""
    year, month = (int(part) for part in period.split("-"))
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SplitPayload:
    """A payload as stored: the plain part, the part to seal, and the subject's digest."""

    plain: dict[str, Any]
    hidden: dict[str, Any]
    subject_digest: str | None


class LogSealing:
    """Digests and period-keyed sealing for the access log and its notices."""

    def __init__(self, engine: Engine, kek: KeyEncryptionKey, digests: LookupDigests) -> None:
        self.engine = engine
        self.digests = digests
        self._keys = SubjectKeyStore(engine, kek, period_keys, "access-log")

    def subject_digest(self, pseudonym: Any) -> str | None:
        """The lookup digest of a household's or person's pseudonym; None for anything else."""
        if not isinstance(pseudonym, str):
            return None
        kind = subject_kind_of(pseudonym)
        return None if kind is None else self.digests.of(kind, pseudonym)

    def split(self, payload: Mapping[str, Any]) -> SplitPayload:
        """Moves the subjects, and every field that names a pseudonym, out of the plain part."""
        hidden = hidden_fields(payload)
        plain = {key: value for key, value in payload.items() if key not in hidden}
        if hidden:
            plain[SEALED_MARK] = sorted(hidden)
        subject = next((payload[f] for f in SUBJECT_FIELDS if payload.get(f) is not None), None)
        return SplitPayload(plain, hidden, self.subject_digest(subject))

    def seal(self, period: str, where: str, value: Any, connection: Connection) -> bytes:
        """`value` as JSON under the period's key (made on first use, in the transaction)."""
        key = self._keys.key_or_new(PERIOD_PREFIX + period, connection)
        plain = json.dumps(value, separators=(",", ":"), sort_keys=True).encode()
        return seal(key, plain, _context(period, where))

    def open(self, period: str, where: str, sealed: bytes) -> Any | None:
        """What `seal` sealed, or None when the period's key was destroyed (retention)."""
        key = self._keys.key(PERIOD_PREFIX + period)
        if key is None:
            return None
        try:
            return json.loads(unseal(key, bytes(sealed), _context(period, where)))
        except UnreadableError:
            return None

    def prefetch(self, periods: Iterable[str]) -> None:
        """The keys of many periods in one query (a window of entries about to be opened)."""
        self._keys.prefetch(PERIOD_PREFIX + p for p in periods)

    def periods(self) -> list[str]:
        """The periods that still have a key, oldest first."""
        with self.engine.connect() as connection:
            subjects = connection.execute(select(period_keys.c.subject)).scalars().all()
        return sorted(s.removeprefix(PERIOD_PREFIX) for s in subjects)

    def destroy(self, periods: Iterable[str]) -> int:
        """Destroys the periods' keys: their subjects never open again, in any copy."""
        return self._keys.destroy(PERIOD_PREFIX + p for p in periods)

    @property
    def keys(self) -> SubjectKeyStore:
        """The period keys, for KEK rotation (re-wrap) and retirement (none left under it)."""
        return self._keys


def hidden_fields(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a payload that must not be stored in clear."""
    return {
        key: value
        for key, value in payload.items()
        if value is not None and (key in SEALED_FIELDS or _names_someone(value))
    }


def merged(plain: dict[str, Any], opened: Mapping[str, Any] | None) -> dict[str, Any]:
    """The payload as it was appended; sealed fields are None when their key is gone."""
    names = plain.pop(SEALED_MARK, [])
    for name in names:
        plain[name] = None if opened is None else opened.get(name)
    return plain


def _names_someone(value: Any) -> bool:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return mask_pseudonyms(text) != text


def _context(period: str, where: str) -> bytes:
    return f"signal-radar/access-log|v1|{period}|{where}".encode()
