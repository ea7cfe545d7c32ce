"""Revoked credentials: a token whose id (jti) is listed here is refused before it expires.

Every service checks the list; it is re-read at most every few seconds so a revocation takes
effect quickly without a database read per request.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, insert, select
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

revoked_credentials = Table(
    "revoked_credentials",
    metadata,
    Column("jti", String(64), primary_key=True),
    Column("revoked_at", DateTime(timezone=True), nullable=False),
    Column("reason", String(200), nullable=False),
)


class RevocationList:
    """The revoked token ids, cached for `refresh_seconds`."""

    def __init__(self, engine: Engine, refresh_seconds: float = 2.0) -> None:
        self._engine = engine
        self._refresh_seconds = refresh_seconds
        self._cached: frozenset[str] = frozenset()
        self._read_at = float("-inf")
        self._lock = threading.Lock()
        metadata.create_all(engine)

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
            if time.monotonic() - self._read_at > self._refresh_seconds:
                with self._engine.connect() as connection:
                    rows = connection.execute(select(revoked_credentials.c.jti)).scalars()
                    self._cached = frozenset(rows)
                self._read_at = time.monotonic()
            return jti in self._cached
