"""Sessions of people signed in to the pages: a random id in an HttpOnly cookie, the person and
their CSRF token kept in this process, ended by sign-out or after an idle spell.

Kept in memory on purpose: nothing about who is signed in lands in a database or a file, a
restart signs everyone out (they sign in again), and sign-out really ends a session (a signed
cookie would stay valid until it expired, whoever copied it).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from privacy.actors import Analyst

SESSION_COOKIE = "radar_session"
TOKEN_BYTES = 32
"""256 bits: a session id and a CSRF token cannot be guessed."""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def same_token(given: str | None, expected: str) -> bool:
    """Compares in constant time, so a forged token is not found byte by byte."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


@dataclass
class PageSession:
    """One signed-in person: who, in which language, and the token each of their forms bears;
    `grants` the written justifications they opened another region's households with (by
    household pseudonym), carried into each later decision on that household as the API's
    callers carry theirs in each request, and gone with the session."""

    analyst: Analyst
    csrf: str
    locale: str
    last_seen: datetime
    grants: dict[str, str] = field(default_factory=dict)


class SessionBook:
    """The open sessions of this process, by the digest of their id (the id itself is kept only
    in the person's cookie)."""

    def __init__(
        self, idle: timedelta, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.idle = idle
        self.clock = clock
        self._sessions: dict[str, PageSession] = {}
        self._lock = threading.Lock()

    def open(self, analyst: Analyst, locale: str) -> tuple[str, PageSession]:
        """A new session; returns the id for the cookie."""
        session_id = new_token()
        session = PageSession(analyst, new_token(), locale, self.clock())
        with self._lock:
            self._forget_idle()
            self._sessions[_digest(session_id)] = session
        return session_id, session

    def find(self, session_id: str | None) -> PageSession | None:
        """The session of this id, its idle time restarted; None when unknown or idle too long."""
        if not session_id:
            return None
        now = self.clock()
        with self._lock:
            session = self._sessions.get(_digest(session_id))
            if session is None:
                return None
            if now - session.last_seen > self.idle:
                del self._sessions[_digest(session_id)]
                return None
            session.last_seen = now
            return session

    def close(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._sessions.pop(_digest(session_id), None)

    def _forget_idle(self) -> None:
        now = self.clock()
        idle = [k for k, s in self._sessions.items() if now - s.last_seen > self.idle]
        for key in idle:
            del self._sessions[key]


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()
