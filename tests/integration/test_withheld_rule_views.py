"""The withheld rule where a view is not a household's score or timeline, through the query API
on SQLite and PostgreSQL: a breach of safety conditions by a signal only the confidential doctor
may read is listed for triage (`weight`: the alert, its weight in one line) and not for
monitoring (`nothing`: no breach alert, no breach id on the plan); the safety assessment
(`count`) sees the household's alert with the count and no withheld points."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from privacy.actors import AnalystRole
from services.database import Database
from tests.support.radar_fixtures import FAMILY, Harness, radar_query_harness, signal


def ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


def test_a_breach_only_the_confidential_doctor_may_read_follows_each_purposes_rule(
    harness: Harness,
) -> None:
    harness.radar.record(signal("huisverbod", ago(60)))
    body = {
        "purpose": "monitoring",
        "conditions": ["Moeder houdt de afspraken bij de GGZ aan"],
        "excluded_signal_types": ["kindcheck_concern"],
        "starts_on": ago(30).date().isoformat(),
    }
    created = harness.post(
        f"/v1/households/{FAMILY}/safety-conditions", body, role=AnalystRole.MONITORING
    )
    assert created.status_code == 201, created.text
    ggz = signal("kindcheck_concern", ago(1), sector="mental_health")
    harness.radar.record(ggz)

    def worklist(role: AnalystRole, purpose: str) -> list[dict[str, Any]]:
        answer = harness.get("/v1/worklist", role=role, params={"purpose": purpose})
        assert answer.status_code == 200, answer.text
        assert str(ggz.event_id) not in answer.text and "kindcheck" not in answer.text
        return list(answer.json()["alerts"])

    triage = worklist(AnalystRole.TRIAGE, "triage")
    [breach] = [a for a in triage if a["kind"] == "breach"]
    assert breach["withheld_by_purpose"] == 1 and any(c["withheld"] for c in breach["explanation"])
    assert "mental_health" not in breach["sectors"] and breach["sector_count"] == 1

    monitoring = worklist(AnalystRole.MONITORING, "monitoring")
    assert "breach" not in [a["kind"] for a in monitoring], "raised by that signal alone"
    for alert in monitoring:
        assert "withheld_by_purpose" not in alert
        assert not any(c["withheld"] for c in alert["explanation"])

    plans = harness.get(
        "/v1/monitoring", role=AnalystRole.MONITORING, params={"purpose": "monitoring"}
    )
    [plan] = plans.json()["plans"]
    assert plan["breaches"] == [], "no id of a signal the purpose may not see"

    assessment = worklist(AnalystRole.SAFETY_ASSESSMENT, "safety_assessment")
    for alert in assessment:
        assert alert["kind"] != "breach"
        assert alert["withheld_by_purpose"] == 1
        assert not any(c["withheld"] for c in alert["explanation"]), "a count, no points"
        assert sum(Decimal(c["points"]) for c in alert["explanation"]) == Decimal(
            alert["score_now"]
        )
    risk = harness.get(
        f"/v1/households/{FAMILY}/risk",
        role=AnalystRole.SAFETY_ASSESSMENT,
        params={"purpose": "safety_assessment"},
    ).json()
    assert risk["withheld_rule"] == "count" and risk["withheld_by_purpose"] == 1
    assert Decimal(risk["score_now"]) < Decimal(breach["score_now"])
