"""The feed route and the webhook routes as the query API serves them (the composition root's
parts), over the test feed of tests/support/feed_table.py, with a deliverer to the test's
receiver on a clock the test moves (backoff waits without sleeping)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience, TokenAuthority
from privacy.policy import PolicyDecisionPoint
from privacy.purposes import PurposeRegister
from privacy.storage.access_log import AccessLog
from privacy.storage.access_log_refusals import AuthRefusalLog
from services import bootstrap
from services.database import Database
from services.delivery.deliverer import Deliverer
from services.delivery.routes import webhook_router
from services.delivery.service import Webhooks
from services.feeds.items import FeedSource
from services.feeds.routes import feed_router
from services.gate import QueryGate
from services.http import new_api
from services.settings import Settings
from tests.support.feed_table import TableFeed, register_with_test_feed

SECRET = "a-shared-secret-of-at-least-32-bytes!"


class MovingClock:
    """A now that moves only when the test says (from the real now: receivers check the signed
    timestamp against their own clock)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class FeedHarness:
    client: TestClient
    webhooks: Webhooks
    feed: TableFeed
    settings: Settings
    log: AccessLog
    authority: TokenAuthority
    deliverer: Deliverer
    clock: MovingClock

    def headers(self, organisation: str, role: AnalystRole = AnalystRole.REPORTER) -> Any:
        actor = Analyst("c.de-vries", organisation, role, "VT09")  # type: ignore[arg-type]
        token = self.authority.issue(actor, Audience.QUERY, timedelta(hours=1))
        return {"Authorization": f"Bearer {token}"}

    def fill(self, ours: str, theirs: str, count: int) -> list[str]:
        """`count` items for `ours`, one for `theirs` after each; the ids of ours."""
        made = []
        for number in range(count):
            made.append(str(self.feed.add(ours, {"status": f"s{number}"}).id))
            self.feed.add(theirs, {"status": "theirs"})
        return made

    def exports(self) -> list[dict[str, Any]]:
        """The access log's delivery entries (disclosures to an external recipient)."""
        return [e.payload for e in self.log.entries() if e.kind == "export"]

    def turn_until_quiet(self, most: int = 20) -> None:
        """Deliver, moving the clock past each backoff, until nothing more is due or waiting."""
        for _ in range(most):
            self.clock.advance(self.settings.webhooks_backoff_cap_seconds)
            if self.deliverer.turn() == 0:
                return


def harness_settings(
    tmp_path: Path, database: Database, ca: Path | None, base: Settings | None = None
) -> Settings:
    """`base` (default: a data directory in `tmp_path` and `database`) with the test feed's
    purpose and webhooks to a loopback receiver that trusts `ca`, three attempts, 1-4 s waits."""
    base = base or Settings(data_dir=tmp_path / "data", database_url=database.url)
    return base.model_copy(
        update=dict(
            purpose_register=register_with_test_feed(tmp_path),
            webhooks_allow_loopback=True,
            webhooks_ca_bundle=ca,
            webhooks_max_attempts=3,
            webhooks_backoff_seconds=1.0,
            webhooks_backoff_cap_seconds=4.0,
        )
    )


@contextmanager
def feed_harness(
    tmp_path: Path,
    database: Database,
    ca: Path | None,
    base: Settings | None = None,
    sources: Sequence[FeedSource] = (),
) -> Iterator[FeedHarness]:
    """The routes and a deliverer over the test feed and `sources` (the radar's own feeds)."""
    settings = harness_settings(tmp_path, database, ca, base)
    parts = bootstrap.Parts(settings)
    register = PurposeRegister.load(settings.purpose_register)
    log = parts.database.access_log(parts.engine)
    log.adopt_register(register)
    gate = QueryGate(PolicyDecisionPoint(register), log, lambda _household: None)
    feed = TableFeed(parts.engine)
    analyst = parts.analyst(AuthRefusalLog(log))
    every = [feed, *sources]
    webhooks = Webhooks(bootstrap.webhook_store(parts), every, gate.policy, True)
    app = new_api("feeds under test", settings.query_max_body_bytes)
    app.include_router(feed_router(gate, every, analyst))
    app.include_router(webhook_router(gate, webhooks, analyst))
    clock = MovingClock()
    deliverer = bootstrap.deliverer(settings, every)
    deliverer.clock = clock
    deliverer.store.clock = clock
    try:
        with TestClient(app) as client:
            yield FeedHarness(
                client,
                webhooks,
                feed,
                settings,
                log,
                TokenAuthority(settings.keys_dir),
                deliverer,
                clock,
            )
    finally:
        parts.close()
