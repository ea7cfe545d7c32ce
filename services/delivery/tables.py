"""The webhook tables: registrations with their delivery state, and the dead letters.

Both are records (migrated in place, never rebuilt): a registration's delivered cursor is what
a receiver has acknowledged, and it stays valid across a rebuild of its feed's read model
because feed cursors do (services/feeds/items.py). A dead letter keeps only which item of which
feed failed and why, never the body: a replay reads the item from its feed again, so erasure
and retention of the feed's read model reach what waits here too.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

MAX_URL_LENGTH = 2048
"""Longer URLs than browsers and proxies carry are refused rather than cut."""

webhooks = Table(
    "radar_webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("organisation", String(64), nullable=False, index=True),  # the receiving organisation
    Column("kind", String(64), nullable=False),  # which feed (services/feeds/)
    Column("url", String(MAX_URL_LENGTH), nullable=False),
    Column("signing", String(16), nullable=False),  # hmac-sha256 or ed25519
    Column("secret_kek", String(32)),  # the KEK version that wraps the shared secret
    Column("secret", LargeBinary),  # the shared secret, wrapped by the KEK; never shown back
    # whom the deliveries are for, re-decided by the purpose register at every delivery
    Column("role", String(32), nullable=False),
    Column("region", String(8), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("removed_at", DateTime(timezone=True)),
    # delivery state: the last cursor the receiver acknowledged (2xx), and the current item's
    # failed attempts
    Column("delivered", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("first_failed_at", DateTime(timezone=True)),
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_attempt_at", DateTime(timezone=True)),
    Column("last_status", String(64)),  # an HTTP status, or what went wrong before one
)

dead_letters = Table(
    "radar_webhook_dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("webhook", String(36), ForeignKey("radar_webhooks.id"), nullable=False, index=True),
    Column("kind", String(64), nullable=False),
    Column("cursor", BigInteger, nullable=False),
    Column("item", String(36), nullable=False),  # the item's id: its idempotency id
    Column("attempts", Integer, nullable=False),
    Column("last_status", String(64)),
    Column("dead_at", DateTime(timezone=True), nullable=False),
    Column("replay_requested_at", DateTime(timezone=True)),
    Column("replayed_at", DateTime(timezone=True)),
)
