"""Revoked credentials: a token whose id (jti) is listed here is refused before it expires.

Every service checks the list; it is re-read at most every few seconds so a revocation takes
effect quickly without a database read per request.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, insert, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

metadata = MetaData()

revoked_credentials = Table(
    "revoked_credentials",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("revoked_at", DateTime(timezone=True), nullable=False),
    Column("reason", String(200), nullable=False),
)


class RevocationsUnavailableError(Exception):
    """The list could not be read for too long: tokens cannot be checked, so none is taken."""


class RevocationList:
    """The revoked token ids, re-read every `refresh_seconds`.

    During a short database outage the last list read stays in force for `max_stale_seconds`;
    after that, verification fails closed.
    """

    def __init__(
        self, engine: Engine, refresh_seconds: float = 2.0, max_stale_seconds: float = 60.0
    ) -> None:
        self._engine = engine
        self._refresh_seconds = refresh_seconds
        self._max_stale_seconds = max_stale_seconds
        self._cached: frozenset[str] = frozenset()
        self._read_at = float("-inf")
        self._lock = threading.Lock()

    def revoke(self, jti: str, reason: str) -> None:
        """Lists a token id as revoked (again revoking it changes nothing)."""
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(revoked_credentials).values(
                        jti=jti, revoked_at=datetime.now(UTC), reason=reason[:200]
                    )
                )
        except IntegrityError:
            pass
        with self._lock:
            self._read_at = float("-inf")

    def is_revoked(self, jti: str) -> bool:
        with self._lock:
            age = time.monotonic() - self._read_at
            if age > self._refresh_seconds:
                try:
                    with self._engine.connect() as connection:
                        rows = connection.execute(select(revoked_credentials.c.jti)).scalars()
                        self._cached = frozenset(rows)
                    self._read_at = time.monotonic()
                except SQLAlchemyError as error:
                    if age > self._max_stale_seconds:
                        raise RevocationsUnavailableError from error
            return jti in self._cached
