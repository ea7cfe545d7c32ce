"""Timeline rows already opened, kept for the next query of the same household.

A timeline GET of a household with 200 signals opened all 200 rows every time (AES-GCM, JSON,
UUID and datetimes per row): about 40 % of the request, in the profile of `python -m bench
--only query`. The rows are still read on every request, so the answer is always the read
model's: an entry is reused only for a row stored exactly as before (every column, the sealed
bytes included, is the cache key), so a correction, a departure or a rebuild is seen at once.
And only under the same row key (a digest of it is part of the cache key; the key itself is
not kept): once retention destroyed it (crypto-shredding), the household's rows open for nobody
again, from this cache neither, within the key cache's own few seconds
(privacy.storage.subject_keys.KEY_CACHE_SECONDS), as before; nor under a key made anew.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives import hashes

from privacy.storage.sealed_rows import RowSealer
from radar.timeline import TimelineEntry
from services.timelines.tables import SealedRows, timeline_signals

_HOUSEHOLD = list(timeline_signals.c.keys()).index("household")
"""Where a row of `select(timeline_signals)` holds its household's digest."""

OPENED_ROWS_KEPT = 20_000
"""About 30 MB of entries: the busiest households' timelines, a hundred of 200 signals."""


class OpenedEntries:
    """The entries of timeline rows, each row opened once while it stays as stored."""

    def __init__(self, rows: SealedRows, sealer: RowSealer, size: int = OPENED_ROWS_KEPT) -> None:
        self._rows = rows
        self._sealer = sealer
        self._size = size
        self._kept: OrderedDict[tuple[Any, ...], TimelineEntry] = OrderedDict()
        self._lock = threading.Lock()

    def entries(self, rows: Sequence[Any]) -> list[TimelineEntry]:
        """The entries of rows of `timeline_signals` (as SealedRows.entries: rows of erased
        households are left out), in the rows' order."""
        households = {row[_HOUSEHOLD] for row in rows}  # by index: a Row's attribute is slow
        self._sealer.prefetch(households)  # one query for the keys not in memory
        readable = {h: _digest(k) for h in households if (k := self._sealer.keys.key(h))}
        found: list[TimelineEntry] = []
        for row in rows:
            key = readable.get(row[_HOUSEHOLD])
            if key is None:
                continue
            stored = (key, *row)
            with self._lock:  # per row: one lock across all rows made the threads convoy
                entry = self._kept.get(stored)
                if entry is not None:
                    self._kept.move_to_end(stored)
            if entry is None:
                opened = self._rows.entries([row])
                if not opened:  # does not open (tampered): left out, as SealedRows does
                    continue
                entry = opened[0]
                self._keep(stored, entry)
            found.append(entry)
        return found

    def _keep(self, stored: tuple[Any, ...], entry: TimelineEntry) -> None:
        with self._lock:
            self._kept[stored] = entry
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)


def _digest(key: bytes) -> bytes:
    """Which key a row was opened with, without keeping the key."""
    digest = hashes.Hash(hashes.SHA256())
    digest.update(key)
    return digest.finalize()
