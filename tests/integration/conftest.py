"""Fixtures several integration tests share: a reader of the test's topic, an event store
whose sealer has published checkpoints to the test's own checkpoints topic, a copy of the
store written before the restructure, and a story told over days (the query API at a clock the
story moves, an in-process aggregator on the test's topic; a module's own `clock`, `harness`
or `member` takes their place)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient

from privacy.storage.vault import IdentityVault
from services import bootstrap
from services.audit.settings import AuditSettings
from services.database import Database
from services.schema.migrate import upgrade_database
from services.settings import Settings
from tests.support.aggregating import InProcessAggregator, aggregating
from tests.support.audit_helpers import Sealed, sealed_store, sealing_settings
from tests.support.casework_story import Clock
from tests.support.ingest import TopicProbe
from tests.support.radar_fixtures import Harness, radar_query_harness


@pytest.fixture
def kafka(topic: str) -> Iterator[TopicProbe]:
    probe = TopicProbe(topic)
    yield probe
    probe.close()


@pytest.fixture
def vault(tmp_path: Path, database: Database) -> IdentityVault:
    """The identity vault on the test's database, as the radar's processes open it."""
    return bootstrap.identity_vault(Settings(data_dir=tmp_path / "data", database_url=database.url))


@pytest.fixture
def member(
    harness: Harness, topic: str, kafka_admin: KafkaAdminClient
) -> Iterator[InProcessAggregator]:
    """An aggregator in the test's process on the test's topic, recording into the radar of
    the module's own `harness` (a story publishing through Kafka, then using the query API)."""
    with aggregating(harness.radar.ledger, topic, kafka_admin) as aggregator:
        yield aggregator


@pytest.fixture
def audit(settings: Settings) -> AuditSettings:
    return sealing_settings(settings)


@pytest.fixture
def sealed(settings: Settings, database: Database, audit: AuditSettings) -> Iterator[Sealed]:
    with sealed_store(settings, database, audit) as store:
        yield store


STORE_V0 = Path(__file__).parent.parent / "fixtures" / "store-v0"


@pytest.fixture
def store_v0(tmp_path: Path) -> tuple[Database, dict[str, Any]]:
    """A copy of tests/fixtures/store-v0 (written at 7d84e54, before schema versions), upgraded
    as the operator would (`radar db upgrade`), and what that code read back from it."""
    copy = tmp_path / "store-v0"
    shutil.copytree(STORE_V0, copy)
    database = Database(f"sqlite:///{copy / 'radar.db'}", copy / "keys")
    upgrade_database(database)
    return database, json.loads((copy / "expected.json").read_text())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def harness(tmp_path: Path, database: Database, clock: Clock) -> Iterator[Harness]:
    """The query API over a radar on `database`, its now `clock`'s."""
    yield from radar_query_harness(tmp_path, database, clock)
