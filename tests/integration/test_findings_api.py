"""VT's findings through the query API, on SQLite and PostgreSQL: an analyst finds a signal
unfounded (it leaves the score at once, the risk view says why, the timeline keeps it marked)
or protects its reporter; bad input, an unknown signal, a finding made twice or a role that may
not record one are refused with the field and reason, and change nothing; every request is
decided and logged under the purpose."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
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


def _risk(harness: Harness) -> dict[str, Any]:
    found = harness.get(f"/v1/households/{FAMILY}/risk", params={"purpose": "triage"})
    assert found.status_code == 200, found.text
    body: dict[str, Any] = found.json()
    return body


def test_an_unfounded_signal_leaves_the_score_and_the_views_say_why(harness: Harness) -> None:
    now = datetime.now(UTC)
    police = signal("zorgmelding", now - timedelta(days=20), severity="acute")
    school = signal("school_absence", now - timedelta(days=5), severity="moderate")
    harness.radar.record(police, school)
    before = Decimal(_risk(harness)["score_now"])
    logged = harness.log.count()

    found = _find(harness, police.event_id)
    assert found.status_code == 201, found.text
    assert Decimal(found.json()["score"]) < before
    [entry] = harness.entries_after(logged)
    assert (entry["purpose"], entry["resource"], entry["outcome"]) == (
        PURPOSE,
        "worklist",
        "permit",
    )
    assert entry["fields"] == ["signal_finding"]

    harness.radar.project()
    risk = _risk(harness)
    assert Decimal(risk["score_now"]) < before
    assert [c["signal_id"] for c in risk["explanation"]] == [str(school.event_id)]
    assert risk["left_out"] == [
        {
            "because": "found_unfounded_by_veilig_thuis",
            "signal_id": str(police.event_id),
            "sector": "police",
            "signal_type": "zorgmelding",
            "occurred_at": police.occurred_at.isoformat().replace("+00:00", "Z"),
        }
    ]
    timeline = harness.get(f"/v1/households/{FAMILY}/timeline", params={"purpose": "triage"})
    marked = {s["signal_id"]: s.get("unfounded") for s in timeline.json()["signals"]}
    assert marked == {str(police.event_id): True, str(school.event_id): None}


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


def test_a_reporter_is_protected_from_one_of_its_signals(harness: Harness) -> None:
    school = signal("school_absence", datetime.now(UTC) - timedelta(days=5))
    harness.radar.record(school)
    protected = _find(harness, school.event_id, "reporter-protection")
    assert protected.status_code == 201, protected.text
    assert school.organisation not in protected.text
    assert harness.radar.ledger.household(FAMILY).protected_sources == (school.organisation,)
    assert _find(harness, school.event_id, "reporter-protection").status_code == 409
