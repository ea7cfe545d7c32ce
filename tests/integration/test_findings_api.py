"""VT's findings refused through the query API, on SQLite and PostgreSQL: bad input, an
unknown signal, a finding made twice or a role that may not record one are refused with the
field and reason, and change nothing; every decided request is logged. (What a finding does is
told in test_findings_stories.py, on the real broker.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from privacy.actors import AnalystRole
from services.database import Database
from tests.support.radar_fixtures import FAMILY, Harness, radar_query_harness, signal

PURPOSE = "signal_finding"
REASON = "Na onderzoek bleek de melding niet te kloppen."


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


def _find(
    harness: Harness,
    signal_id: Any,
    step: str = "unfounded",
    role: AnalystRole = AnalystRole.TRIAGE,
    **body: Any,
) -> Any:
    path = f"/v1/households/{FAMILY}/signals/{signal_id}/{step}"
    return harness.post(path, {"purpose": PURPOSE, "reason": REASON, **body}, role)


def test_a_refused_finding_names_the_field_and_changes_nothing(harness: Harness) -> None:
    police = signal("zorgmelding", datetime.now(UTC) - timedelta(days=20))
    harness.radar.record(police)
    events = harness.radar.ledger.notifications.last_id()
    logged = harness.log.count()

    leaking = _find(harness, police.event_id, reason="BSN 111222333 zei het zelf")
    assert leaking.status_code == 422
    assert [e["field"] for e in leaking.json()["errors"]] == ["reason"]
    assert "111222333" not in leaking.text
    unknown = _find(harness, uuid4())
    assert unknown.status_code == 404, unknown.text
    monitoring = _find(harness, police.event_id, role=AnalystRole.MONITORING)
    assert monitoring.status_code == 403, monitoring.text
    assert harness.radar.ledger.notifications.last_id() == events
    assert [e["outcome"] for e in harness.entries_after(logged)] == ["deny", "deny"]

    assert _find(harness, police.event_id).status_code == 201
    again = _find(harness, police.event_id)
    assert again.status_code == 409, again.text
