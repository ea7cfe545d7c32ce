"""A query API on a real database with known timelines, for the privacy-layer tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from contracts.vocabulary import SIGNAL_TYPES, Sector
from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience, TokenAuthority
from privacy.storage.access_log import AccessLog
from radar.timeline import TimelineEntry
from services import bootstrap
from services.database import Database
from services.settings import Settings
from services.timelines.store import TimelineStore

HOME_REGION = "VT09"
OTHER_REGION = "VT13"
HOUSEHOLD = "hh.k1." + "a" * 32
HOUSEHOLD_ELSEWHERE = "hh.k1." + "b" * 32


def child_of(household: str) -> str:
    """A child of this household only: households here share no members."""
    return "p.k1." + household.rsplit(".", 1)[-1]


def entry(
    household: str, sector: Sector, days_ago: int, region: str, position: int
) -> TimelineEntry:
    kind = next(k for k, d in SIGNAL_TYPES.items() if sector in d.sectors)
    moment = datetime.now(UTC) - timedelta(days=days_ago)
    return TimelineEntry(
        position=position,
        household=household,
        signal_id=uuid.uuid4(),
        organisation=f"org-{sector}".replace("_", "-"),
        sector=str(sector),
        signal_type=str(kind),
        severity="high",
        occurred_at=moment,
        reported_at=moment,
        received_at=moment,
        region=region,
        persons=((child_of(household), "child"),),
    )


def seed_timelines(store: TimelineStore) -> list[TimelineEntry]:
    """Both households get a recent signal from every sector and an old police signal."""
    entries: list[TimelineEntry] = []
    for household, region in ((HOUSEHOLD, HOME_REGION), (HOUSEHOLD_ELSEWHERE, OTHER_REGION)):
        entries.append(entry(household, Sector.POLICE, 1500, region, len(entries) + 1))
        for days, sector in enumerate(Sector, start=1):
            entries.append(entry(household, sector, days, region, len(entries) + 1))
    store.apply(entries, expected=store.position(), new_position=len(entries))
    return entries


@dataclass
class QueryHarness:
    client: TestClient
    authority: TokenAuthority
    access_log: AccessLog
    entries: list[TimelineEntry]
    store: TimelineStore  # the app's timelines: the same database and keys

    def token(self, role: AnalystRole, region: str = HOME_REGION, subject: str = "user-1") -> str:
        analyst = Analyst(subject, f"vt-{region.lower()}", role, region)  # type: ignore[arg-type]
        return self.authority.issue(analyst, Audience.QUERY, timedelta(hours=1))

    def headers(self, role: AnalystRole, region: str = HOME_REGION) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, region)}"}


def query_harness(tmp_path: Path, database: Database) -> Iterator[QueryHarness]:
    settings = Settings(data_dir=tmp_path / "data", database_url=database.url)
    authority = TokenAuthority(settings.keys_dir)
    engine = database.engine()
    store = TimelineStore(engine, database.row_sealer(engine))
    entries = seed_timelines(store)
    with TestClient(bootstrap.query_app(settings)) as client:
        yield QueryHarness(client, authority, database.access_log(engine), entries, store)
    engine.dispose()
