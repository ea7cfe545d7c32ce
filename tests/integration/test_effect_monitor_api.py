"""The effect monitor route, on SQLite and PostgreSQL: a Veilig Thuis monitoring analyst gets
the figures of their own region and the country, each with its definition, as an access-log
entry under its purpose; a purpose that does not cover it is refused and logged; a period that
is no period is a 422 naming the field, and nothing is logged as read."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from privacy.actors import AnalystRole
from radar.effect_monitor import DEFINITIONS
from services.database import Database
from tests.support.radar_fixtures import Harness, radar_query_harness, signal

PATH = "/v1/statistics/effect-monitor"


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


def test_a_monitoring_analyst_sees_the_figures_of_their_region_with_definitions(
    harness: Harness,
) -> None:
    now = datetime.now(UTC)
    harness.radar.record(
        signal("zorgmelding", now - timedelta(days=3)),
        signal("vt_report", now - timedelta(days=1), sector="veilig_thuis"),
        signal("vt_report", now - timedelta(days=1), region="VT13", household="hh.k1." + "c" * 32),
    )
    period = f"{now.year}-{now.month:02d}"
    logged = len(harness.log.entries())
    answer = harness.get(
        PATH,
        AnalystRole.MONITORING,
        params={"period": period, "purpose": "programme_monitoring"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [r["region"] for r in body["regions"]] == ["VT09", "national"]
    vt09, national = (r["figures"] for r in body["regions"])
    assert vt09["households_in_view"]["value"] == 1
    assert vt09["first_vt_reports"]["value"] == 1
    assert national["first_vt_reports"]["value"] == 2
    assert vt09["seen_before_vt_report_share"]["value"] == 1.0
    assert {n: f["definition"] for n, f in vt09.items()} == DEFINITIONS
    [entry] = harness.entries_after(logged)
    assert entry["purpose"] == "programme_monitoring" and entry["outcome"] == "permit"
    assert entry["resource"] == "effect_monitor"


def test_another_purpose_is_refused_and_a_wrong_period_names_the_field(harness: Harness) -> None:
    logged = len(harness.log.entries())
    refused = harness.get(PATH, params={"period": "2026H2", "purpose": "triage"})
    assert refused.status_code == 403
    [entry] = harness.entries_after(logged)
    assert entry["outcome"] == "deny"

    wrong = harness.get(
        PATH, AnalystRole.MONITORING, params={"period": "2026H3", "purpose": "programme_monitoring"}
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "period"
    assert harness.entries_after(logged + 1) == []
