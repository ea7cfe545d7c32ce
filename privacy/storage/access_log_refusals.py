"""Refusals at authentication (401) as access-log entries, rate-limited (issue 22).

A request without a valid token reaches no policy decision, yet the README promises an entry for
every request to a query endpoint: someone probing with forged or stolen tokens must leave a
trace. A flood must not fill the log (nor make every bad request a database write), so per
client address and reason at most `per_window` entries are written in each window; the refusals
suppressed beyond that are counted and written as ONE summary entry once the window is over
(on the next refusal of any client, or at `flush`, which the API calls when it stops).

The claimed subject comes from a token that was not verified: it is recorded as claimed, marked
unverified, shortened, and masked like a log line, so a forged token cannot write an identifier
into the log (a pseudonym in it would be sealed besides, like every subject).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.leak_guard import mask_identifiers
from contracts.pseudonyms import mask_pseudonyms
from privacy.storage.access_log import AccessLog, EntryKind

WINDOW = timedelta(minutes=1)
PER_WINDOW = 10
"""Entries per client address and reason in one window; the rest are counted in a summary."""
CLAIM_LENGTH = 64
"""Longer claimed subjects are cut: no real subject is longer, a junk one need not be kept."""


def masked(text: str, limit: int | None = None) -> str:
    """Text from a request as the log may hold it: no pseudonym, no identifier."""
    return mask_identifiers(mask_pseudonyms(text if limit is None else text[:limit]))


@dataclass
class _Window:
    started: datetime
    written: int = 0
    suppressed: int = 0


@dataclass(frozen=True)
class AuthRefusal:
    """One request refused before any actor was known."""

    endpoint: str  # method and path, pseudonyms masked
    reason: str
    client: str | None
    claimed_subject: str | None  # from the token, not verified

    def payload(self) -> dict[str, Any]:
        return {
            "endpoint": masked(self.endpoint),
            "reason": self.reason,
            "client": self.client,
            "claimed_subject": (
                None if self.claimed_subject is None else masked(self.claimed_subject, CLAIM_LENGTH)
            ),
            "subject_verified": False,
            "outcome": "deny",
        }


class AuthRefusalLog:
    """Writes refusals at authentication to the access log, at most `per_window` per client
    address and reason in each window, and one summary entry per window that suppressed some."""

    def __init__(
        self,
        log: AccessLog,
        per_window: int = PER_WINDOW,
        window: timedelta = WINDOW,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.log = log
        self.per_window = per_window
        self.window = window
        self.clock = clock or (lambda: datetime.now(UTC))
        self._windows: dict[tuple[str | None, str], _Window] = {}
        self._lock = threading.Lock()

    def record(self, refusal: AuthRefusal) -> bool:
        """Logs the refusal unless its client has had `per_window` of this reason in the
        window (then it is counted); True when an entry was written."""
        now = self.clock()
        key = (refusal.client, refusal.reason)
        with self._lock:
            self._close_windows(now)
            current = self._windows.setdefault(key, _Window(now))
            if current.written >= self.per_window:
                current.suppressed += 1
                return False
            current.written += 1
        self.log.append(EntryKind.AUTH_REFUSED, refusal.payload())
        return True

    def flush(self) -> int:
        """Writes the summary of every window that suppressed refusals, over or not (the API
        stops); returns how many summaries were written."""
        with self._lock:
            return self._close_windows(None)

    def _close_windows(self, now: datetime | None) -> int:
        """Summarises and forgets the windows that are over (all of them when `now` is None)."""
        over = [
            key for key, w in self._windows.items() if now is None or now - w.started >= self.window
        ]
        summaries = 0
        for key in over:
            closed = self._windows.pop(key)
            if closed.suppressed:
                summary = _summary(key, closed, self.window)
                self.log.append(EntryKind.AUTH_REFUSED_SUPPRESSED, summary)
                summaries += 1
        return summaries


def _summary(key: tuple[str | None, str], closed: _Window, window: timedelta) -> dict[str, Any]:
    client, reason = key
    return {
        "client": client,
        "reason": reason,
        "suppressed": closed.suppressed,
        "logged": closed.written,
        "window_start": closed.started.isoformat(),
        "window_end": (closed.started + window).isoformat(),
        "outcome": "deny",
    }
