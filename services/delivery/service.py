"""Registering a webhook: the checks every way in shares (the query API, `radar webhooks add`).

An organisation registers for a feed it may read: the purpose register must permit its role the
feed's resource under the purpose it names, as a read through `GET /v1/feeds/{kind}` would
(and the deliverer decides again at every delivery). A shared secret must be long enough to
resist guessing; it is stored wrapped and never shown back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from privacy.actors import Analyst
from privacy.policy import AccessRequest, PolicyDecisionPoint
from services.delivery.registry import Registration, Webhook, WebhookStore
from services.delivery.signing import Signing
from services.delivery.urls import checked_url
from services.errors import Refusal, RefusalKind, invalid_field
from services.feeds.items import FeedSource

MIN_SECRET_BYTES = 32
"""256 bits, HMAC-SHA256's own strength: a shorter secret is the weaker part."""
MAX_SECRET_BYTES = 256


def checked_secret(signing: Signing, secret: str | None) -> bytes | None:
    if signing == Signing.ED25519:
        if secret is not None:
            raise invalid_field("secret", "must be absent with ed25519 signing")
        return None
    if secret is None:
        raise invalid_field("secret", "is required with hmac-sha256 signing")
    raw = secret.encode()
    if not MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES:
        raise invalid_field(
            "secret", f"must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes (random)"
        )
    return raw


class Webhooks:
    """The registration use cases, on the store and the feeds that exist."""

    def __init__(
        self,
        store: WebhookStore,
        sources: Sequence[FeedSource],
        policy: PolicyDecisionPoint,
        allow_loopback: bool,
    ) -> None:
        self.store = store
        self.sources = {source.kind: source for source in sources}
        self.policy = policy
        self.allow_loopback = allow_loopback

    def register(
        self,
        actor: Analyst,
        kind: str,
        url: str,
        signing: Signing,
        secret: str | None,
        purpose: str,
        after: int = 0,
    ) -> Webhook:
        """A new webhook of `actor`'s organisation for its items of feed `kind`."""
        source = self.sources.get(kind)
        if source is None:
            raise invalid_field("kind", f"no such feed; feeds: {sorted(self.sources)}")
        registration = Registration(
            organisation=actor.organisation,
            kind=kind,
            url=checked_url(url, self.allow_loopback),
            signing=signing,
            secret=checked_secret(signing, secret),
            role=str(actor.role),
            region=str(actor.region),
            purpose=purpose,
            after=after,
        )
        access = AccessRequest(actor, source.resource, purpose, subject_region=str(actor.region))
        decision = self.policy.decide(access, datetime.now(UTC))
        if not decision.permitted:
            raise Refusal(RefusalKind.FORBIDDEN, f"feed {kind!r}: {decision.reason}")
        return self.store.add(registration)
