"""The deliverer (`radar deliver`): pushes each webhook's feed items to its receiver.

The read models are the outbox. A feed item is written in the same transaction that moves its
read model past the event that caused it (services/feeds/items.py), so an item exists exactly
when its event does, and the deliverer needs no queue of its own: for each registration it
reads its feed's items after the registration's delivered cursor and POSTs them one by one, in
cursor order, signed (services/delivery/signing.py), the item's id as idempotency key.

At least once: the cursor moves only after a 2xx. A crash after the receiver took an item but
before the cursor moved sends that item again, with the same id, which is how the receiver
knows it is a duplicate. A failure waits with exponential backoff and jitter, per
registration (services/delivery/backoff.py); an item still failing after the limit goes to the
dead letters (which item, not its body) and the cursor moves past it, so one item the receiver
keeps refusing does not hold back the rest; an operator replays it (`radar webhooks replay`).

Every attempt is an access-log entry (a disclosure to an external recipient: the organisation,
the feed, the fields, one record; never the body), written before the POST: a crash in between
leaves a logged attempt that was not made, never a delivery that was not logged. And every
attempt is decided again by the purpose register in force, as a read through the query API
would be: a purpose withdrawn from a role stops its webhooks too.
"""

from __future__ import annotations

import getpass
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.regions import VtRegion
from privacy.actors import Analyst, AnalystRole
from privacy.key_encryption import UnreadableError
from privacy.policy import AccessRequest, Decision, PolicyDecisionPoint
from privacy.storage.access_log import AccessLog, EntryKind
from services.delivery import signing
from services.delivery.backoff import Backoff
from services.delivery.poster import Post, delivered
from services.delivery.registry import DeadLetter, Webhook, WebhookStore
from services.feeds.items import FeedItem, FeedSource

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ITEMS_PER_TURN = 50
"""Items one registration gets per turn, so that one busy feed does not starve the others."""
DELIVERER = "radar deliver"


def deliverer_operator() -> dict[str, str | None]:
    """Who sends, as the access log names operators (privacy.actors.Operator.as_log): the
    deliverer process under its OS account, on no person's behalf."""
    return {"os_user": getpass.getuser(), "name": DELIVERER, "role": None, "responsible": None}


def item_body(item: FeedItem) -> bytes:
    """The bytes POSTed for an item: what the feed route shows of it, keys sorted."""
    document = {
        "id": str(item.id),
        "cursor": item.cursor,
        "kind": item.kind,
        "occurred_at": item.occurred_at,
        "body": dict(item.body),
    }
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


@dataclass(frozen=True)
class Signer:
    """Signs with a webhook's shared secret, or with the radar's webhook key."""

    store: WebhookStore
    key: Ed25519PrivateKey

    def headers(
        self, webhook: Webhook, item: FeedItem, body: bytes, now: datetime
    ) -> dict[str, str]:
        timestamp = int(now.timestamp())
        if webhook.signing == signing.Signing.HMAC:
            secret = self.store.secret(webhook.id)
            assert secret is not None, "an hmac webhook is stored with its secret"
            signature = signing.hmac_signature(secret, timestamp, body)
        else:
            signature = signing.ed25519_signature(self.key, timestamp, body)
        return {
            "Content-Type": "application/json",
            signing.IDEMPOTENCY_HEADER: str(item.id),
            signing.TIMESTAMP_HEADER: str(timestamp),
            signing.SIGNATURE_HEADER: signature,
            signing.KIND_HEADER: item.kind,
        }


def actor_of(webhook: Webhook) -> Analyst:
    """Whom a delivery is for, as the policy decides it: the registering organisation's role."""
    return Analyst(
        subject=f"webhook:{webhook.id}",
        organisation=webhook.organisation,
        role=AnalystRole(webhook.role),
        region=VtRegion(webhook.region),
    )


class Deliverer:
    """One turn delivers what is due for every registration; `run` turns until stopped."""

    def __init__(
        self,
        store: WebhookStore,
        sources: Sequence[FeedSource],
        post: Post,
        signer: Signer,
        access_log: AccessLog,
        policy: PolicyDecisionPoint,
        backoff: Backoff,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.sources = {source.kind: source for source in sources}
        self.post = post
        self.signer = signer
        self.access_log = access_log
        self.policy = policy
        self.backoff = backoff
        self.clock = clock

    def run(self, stop: threading.Event, idle_seconds: float) -> None:
        while not stop.is_set():
            if self.turn() == 0:
                stop.wait(idle_seconds)

    def turn(self) -> int:
        """Delivers what is due; how many attempts it made."""
        return sum(self._serve(webhook) for webhook in self.store.due(self.clock()))

    def _serve(self, webhook: Webhook) -> int:
        source = self.sources.get(webhook.kind)
        decision = self._decide(webhook, source)
        if source is None or not decision.permitted:
            reason = "no such feed" if source is None else "refused by the purpose register"
            pause = timedelta(seconds=self.backoff.cap_seconds)  # a register or a release away
            self.store.paused(webhook.id, reason, self.clock() + pause)
            return 0
        attempts = 0
        for letter in self.store.replays(webhook.id):
            attempts += 1
            self._replay(webhook, source, letter, decision)
        for item in source.items_after(webhook.organisation, webhook.delivered, ITEMS_PER_TURN):
            attempts += 1
            if not self._attempt(webhook, item, decision):
                break
            webhook = replace(webhook, delivered=item.cursor, attempts=0, first_failed_at=None)
        return attempts

    def _decide(self, webhook: Webhook, source: FeedSource | None) -> Decision:
        if source is None:
            return Decision(False, f"no feed {webhook.kind!r}", webhook.purpose, 0)
        request = AccessRequest(
            actor=actor_of(webhook),
            resource=source.resource,
            purpose=webhook.purpose,
            subject_region=webhook.region,
        )
        return self.policy.decide(request, self.clock())

    def _send(self, webhook: Webhook, item: FeedItem, decision: Decision, replay: bool) -> str:
        body = item_body(item)
        try:
            headers = self.signer.headers(webhook, item, body, self.clock())
        except UnreadableError:  # its KEK version was retired before a re-wrap
            return "secret_unreadable"
        self.access_log.append(EntryKind.EXPORT, self._logged(webhook, item, decision, replay))
        status = self.post(webhook.url, body, headers)
        log.info("webhook %s %s cursor %s: %s", webhook.id, item.kind, item.cursor, status)
        return status

    def _attempt(self, webhook: Webhook, item: FeedItem, decision: Decision) -> bool:
        """One POST of the next item; True when the receiver took it (go on with the next)."""
        status = self._send(webhook, item, decision, replay=False)
        if delivered(status):
            self.store.delivered(webhook.id, item.cursor, status)
            return True
        failures = webhook.attempts + 1
        if self.backoff.gives_up(failures, webhook.first_failed_at, self.clock()):
            self.store.dead(webhook, item, status)
        else:
            self.store.failed(webhook.id, status, self.clock() + self.backoff.wait(failures))
        return False

    def _replay(
        self, webhook: Webhook, source: FeedSource, letter: DeadLetter, decision: Decision
    ) -> None:
        found = source.items_after(webhook.organisation, letter.cursor - 1, 1)
        if not found or found[0].cursor != letter.cursor:
            self.store.replay_settled(letter, "gone from its feed", delivered=False)
            return
        status = self._send(webhook, found[0], decision, replay=True)
        self.store.replay_settled(letter, status, delivered=delivered(status))

    def _logged(
        self, webhook: Webhook, item: FeedItem, decision: Decision, replay: bool
    ) -> dict[str, Any]:
        return {
            "operator": deliverer_operator(),
            "channel": "webhook",
            "recipient": webhook.organisation,
            "webhook": webhook.id,
            "kind": item.kind,
            "purpose": decision.purpose,
            "register_version": decision.register_version,
            "fields": sorted(item.body),
            "records": 1,
            "item": str(item.id),
            "replay": replay,
        }
