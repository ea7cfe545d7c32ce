"""The webhook registrations and their delivery state, and the dead letters (a store).

A shared secret is stored wrapped by the key-encryption key (privacy/key_encryption.py), bound
to its webhook's id, so a copied row does not open for another webhook; it is unwrapped only to
sign, and no view, listing or log line carries it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.engine import Connection, Row

from privacy.key_encryption import KeyEncryptionKey, WrappedKey
from services.database import stored_utc
from services.delivery.signing import Signing
from services.delivery.tables import dead_letters, metadata, webhooks
from services.feeds.items import FeedItem

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Webhook:
    """One registration and where its deliveries stand; never its secret."""

    id: str
    organisation: str
    kind: str
    url: str
    signing: Signing
    role: str
    region: str
    purpose: str
    created_at: datetime
    delivered: int  # the last cursor the receiver acknowledged
    attempts: int  # failed attempts at the item after `delivered`
    first_failed_at: datetime | None
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status: str | None

    def view(self) -> dict[str, Any]:
        """What its organisation and the operator see of it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "url": self.url,
            "signing": str(self.signing),
            "purpose": self.purpose,
            "created_at": self.created_at,
            "delivered_after": self.delivered,
            "attempts": self.attempts,
            "next_attempt_at": self.next_attempt_at,
            "last_status": self.last_status,
        }


@dataclass(frozen=True)
class DeadLetter:
    """An item given up on: which item of which feed, never its body."""

    id: int
    webhook: str
    kind: str
    cursor: int
    item: str
    attempts: int
    last_status: str | None
    dead_at: datetime
    replay_requested_at: datetime | None
    replayed_at: datetime | None


def _secret_context(webhook_id: str) -> bytes:
    return f"radar-webhook-secret:{webhook_id}".encode()


def _webhook(row: Row[Any]) -> Webhook:
    return Webhook(
        id=row.id,
        organisation=row.organisation,
        kind=row.kind,
        url=row.url,
        signing=Signing(row.signing),
        role=row.role,
        region=row.region,
        purpose=row.purpose,
        created_at=stored_utc(row.created_at),
        delivered=int(row.delivered),
        attempts=int(row.attempts),
        first_failed_at=_utc(row.first_failed_at),
        next_attempt_at=_utc(row.next_attempt_at),
        last_attempt_at=_utc(row.last_attempt_at),
        last_status=row.last_status,
    )


def _dead_letter(row: Row[Any]) -> DeadLetter:
    return DeadLetter(
        id=int(row.id),
        webhook=row.webhook,
        kind=row.kind,
        cursor=int(row.cursor),
        item=row.item,
        attempts=int(row.attempts),
        last_status=row.last_status,
        dead_at=stored_utc(row.dead_at),
        replay_requested_at=_utc(row.replay_requested_at),
        replayed_at=_utc(row.replayed_at),
    )


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else stored_utc(value)


@dataclass(frozen=True)
class Registration:
    """What a new webhook is made of (checked by services/delivery/service.py first)."""

    organisation: str
    kind: str
    url: str
    signing: Signing
    secret: bytes | None
    role: str
    region: str
    purpose: str
    after: int = 0  # deliver the items after this cursor (0: the whole feed)


class WebhookStore:
    """Reads and writes the webhook tables on the radar database."""

    def __init__(
        self, engine: Engine, kek: KeyEncryptionKey, clock: Clock = lambda: datetime.now(UTC)
    ) -> None:
        self.engine = engine
        self.kek = kek
        self.clock = clock
        metadata.create_all(engine, checkfirst=True)

    # --- registrations ----------------------------------------------------------------------

    def add(self, registration: Registration) -> Webhook:
        webhook_id = str(uuid.uuid4())
        wrapped = (
            None
            if registration.secret is None
            else self.kek.wrap(registration.secret, _secret_context(webhook_id))
        )
        with self.engine.begin() as connection:
            connection.execute(
                insert(webhooks).values(
                    id=webhook_id,
                    organisation=registration.organisation,
                    kind=registration.kind,
                    url=registration.url,
                    signing=str(registration.signing),
                    secret_kek=None if wrapped is None else wrapped.kek_id,
                    secret=None if wrapped is None else wrapped.wrapped,
                    role=registration.role,
                    region=registration.region,
                    purpose=registration.purpose,
                    created_at=self.clock(),
                    delivered=registration.after,
                    attempts=0,
                )
            )
        found = self.get(webhook_id)
        assert found is not None
        return found

    def get(self, webhook_id: str) -> Webhook | None:
        query = select(webhooks).where(webhooks.c.id == webhook_id, webhooks.c.removed_at.is_(None))
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _webhook(row)

    def active(self, organisation: str | None = None) -> list[Webhook]:
        """The registrations not removed (of one organisation, or all), oldest first."""
        query = select(webhooks).where(webhooks.c.removed_at.is_(None))
        if organisation is not None:
            query = query.where(webhooks.c.organisation == organisation)
        with self.engine.connect() as connection:
            rows = connection.execute(query.order_by(webhooks.c.created_at, webhooks.c.id))
            return [_webhook(row) for row in rows]

    def remove(self, webhook_id: str, organisation: str | None = None) -> bool:
        """Stops its deliveries; its secret is deleted (the row stays: its dead letters and
        log entries name it)."""
        query = update(webhooks).where(webhooks.c.id == webhook_id, webhooks.c.removed_at.is_(None))
        if organisation is not None:
            query = query.where(webhooks.c.organisation == organisation)
        removal = query.values(removed_at=self.clock(), secret=None, secret_kek=None)
        with self.engine.begin() as connection:
            return connection.execute(removal).rowcount == 1

    def secret(self, webhook_id: str) -> bytes | None:
        """The shared secret, unwrapped to sign with; None for an Ed25519 webhook."""
        query = select(webhooks.c.secret_kek, webhooks.c.secret).where(webhooks.c.id == webhook_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None or row.secret is None:
            return None
        wrapped = WrappedKey(row.secret_kek, bytes(row.secret))
        return self.kek.unwrap(wrapped, _secret_context(webhook_id))

    def rewrap(self) -> int:
        """Re-wraps every secret under the KEK's current version (a KEK rotation, like every
        other store of wrapped keys: `radar admin rewrap-keys`); how many it re-wrapped."""
        current = self.kek.current_id
        stale = select(webhooks.c.id, webhooks.c.secret_kek, webhooks.c.secret).where(
            webhooks.c.secret.is_not(None), webhooks.c.secret_kek != current
        )
        with self.engine.begin() as connection:
            rows = connection.execute(stale).all()
            for row in rows:
                context = _secret_context(row.id)
                secret = self.kek.unwrap(WrappedKey(row.secret_kek, bytes(row.secret)), context)
                wrapped = self.kek.wrap(secret, context)
                connection.execute(
                    update(webhooks)
                    .where(webhooks.c.id == row.id)
                    .values(secret_kek=wrapped.kek_id, secret=wrapped.wrapped)
                )
        return len(rows)

    def wrapped_under(self, kek_id: str) -> int:
        """How many secrets are still wrapped under this KEK version."""
        query = select(func.count()).select_from(webhooks).where(webhooks.c.secret_kek == kek_id)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    # --- delivery state ---------------------------------------------------------------------

    def due(self, now: datetime) -> list[Webhook]:
        """The active registrations whose next attempt has come (or that have none waiting)."""
        return [w for w in self.active() if w.next_attempt_at is None or w.next_attempt_at <= now]

    def delivered(self, webhook_id: str, cursor: int, status: str) -> None:
        """The receiver acknowledged the item at `cursor`: the cursor moves on (never back)."""
        with self.engine.begin() as connection:
            connection.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook_id, webhooks.c.delivered < cursor)
                .values(delivered=cursor)
            )
            self._settled(connection, webhook_id, status)

    def failed(self, webhook_id: str, status: str, next_attempt_at: datetime) -> None:
        now = self.clock()
        with self.engine.begin() as connection:
            connection.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook_id)
                .values(
                    attempts=webhooks.c.attempts + 1,
                    first_failed_at=func.coalesce(webhooks.c.first_failed_at, now),
                    next_attempt_at=next_attempt_at,
                    last_attempt_at=now,
                    last_status=status,
                )
            )

    def paused(self, webhook_id: str, status: str, until: datetime) -> None:
        """Nothing may be sent now (its feed is gone, or its purpose no longer permits it):
        look again at `until`; no attempt was made, so none is counted against an item."""
        with self.engine.begin() as connection:
            connection.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook_id)
                .values(next_attempt_at=until, last_status=status)
            )

    def dead(self, webhook: Webhook, item: FeedItem, status: str) -> None:
        """Gives the item up: a dead letter, and the cursor past it, in one transaction (so
        the item is either waiting to be delivered or waiting to be replayed, never neither)."""
        now = self.clock()
        with self.engine.begin() as connection:
            connection.execute(
                insert(dead_letters).values(
                    webhook=webhook.id,
                    kind=item.kind,
                    cursor=item.cursor,
                    item=str(item.id),
                    attempts=webhook.attempts + 1,
                    last_status=status,
                    dead_at=now,
                )
            )
            connection.execute(
                update(webhooks)
                .where(webhooks.c.id == webhook.id, webhooks.c.delivered < item.cursor)
                .values(delivered=item.cursor)
            )
            self._settled(connection, webhook.id, status)

    def _settled(self, connection: Connection, webhook_id: str, status: str) -> None:
        connection.execute(
            update(webhooks)
            .where(webhooks.c.id == webhook_id)
            .values(
                attempts=0,
                first_failed_at=None,
                next_attempt_at=None,
                last_attempt_at=self.clock(),
                last_status=status,
            )
        )

    # --- dead letters -----------------------------------------------------------------------

    def dead_letters(self, webhook_id: str | None = None) -> list[DeadLetter]:
        query = select(dead_letters).order_by(dead_letters.c.id)
        if webhook_id is not None:
            query = query.where(dead_letters.c.webhook == webhook_id)
        with self.engine.connect() as connection:
            return [_dead_letter(row) for row in connection.execute(query)]

    def request_replay(self, ids: Sequence[int]) -> int:
        """Marks dead letters for the deliverer to try again; how many were waiting."""
        query = (
            update(dead_letters)
            .where(dead_letters.c.id.in_(list(ids)), dead_letters.c.replayed_at.is_(None))
            .values(replay_requested_at=self.clock())
        )
        with self.engine.begin() as connection:
            return int(connection.execute(query).rowcount)

    def replays(self, webhook_id: str) -> list[DeadLetter]:
        """The webhook's dead letters an operator asked to replay, not yet delivered."""
        query = (
            select(dead_letters)
            .where(
                dead_letters.c.webhook == webhook_id,
                dead_letters.c.replay_requested_at.is_not(None),
                dead_letters.c.replayed_at.is_(None),
            )
            .order_by(dead_letters.c.cursor)
        )
        with self.engine.connect() as connection:
            return [_dead_letter(row) for row in connection.execute(query)]

    def replay_settled(self, letter: DeadLetter, status: str, delivered: bool) -> None:
        """A replay's outcome: delivered (done), or dead again with one attempt more; a failed
        replay is not retried by itself (the operator asks again once the receiver is back)."""
        values: dict[str, Any] = {"attempts": dead_letters.c.attempts + 1, "last_status": status}
        if delivered:
            values["replayed_at"] = self.clock()
        else:
            values["replay_requested_at"] = None
        with self.engine.begin() as connection:
            connection.execute(
                update(dead_letters).where(dead_letters.c.id == letter.id).values(**values)
            )
