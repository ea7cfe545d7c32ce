"""Fixtures several integration tests share: a reader of the test's topic, and an event store
whose sealer has published checkpoints to the test's own checkpoints topic."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.audit.settings import AuditSettings
from services.database import Database
from services.settings import Settings
from tests.support.audit_helpers import Sealed, sealed_store, sealing_settings
from tests.support.ingest import TopicProbe


@pytest.fixture
def kafka(topic: str) -> Iterator[TopicProbe]:
    probe = TopicProbe(topic)
    yield probe
    probe.close()


@pytest.fixture
def audit(settings: Settings) -> AuditSettings:
    return sealing_settings(settings)


@pytest.fixture
def sealed(settings: Settings, database: Database, audit: AuditSettings) -> Iterator[Sealed]:
    with sealed_store(settings, database, audit) as store:
        yield store
