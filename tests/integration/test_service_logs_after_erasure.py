"""Service logs name no household or person (issue 24, item 4): request lines are written with
the path's pseudonyms masked, so after retention erased a household no line of any service log
names it or its members; the access log stays the record of who looked at whom."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from privacy.retention import RetentionPolicy
from services import bootstrap
from services.database import Database
from services.logs import configure_logging
from services.retention.service import enforce
from services.settings import Settings
from tests.support.radar_fixtures import FAMILY, Harness, radar_query_harness, signal

NOW = datetime.now(UTC)
YEARS_AGO = NOW - timedelta(days=3 * 365)
OLD_BSN = "111222333"  # synthetic, passes the elfproef


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


def _log_text(logs_dir: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return "".join(path.read_text(encoding="utf-8") for path in logs_dir.glob("*.log"))


def test_after_erasure_no_service_log_line_names_the_household_or_its_persons(
    harness: Harness, database: Database, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database.url)
    configure_logging("query", "info", settings.logs_dir / "query.log")
    child = bootstrap.pseudonyms(settings).pseudonymiser().person(OLD_BSN)
    harness.radar.record(
        *(
            signal("zorgmelding", moment, severity="low", children=(child,), received_at=moment)
            for moment in (YEARS_AGO - timedelta(days=30), YEARS_AGO)
        )
    )
    assert harness.get(f"/v1/households/{FAMILY}/timeline?purpose=triage").status_code == 200
    assert harness.get(f"/v1/persons/{child}/timeline?purpose=triage").status_code == 200
    assert harness.get(f"/v1/households/{FAMILY}/risk?purpose=triage").status_code in (200, 404)
    logged = _log_text(settings.logs_dir)
    assert "/v1/households/hh.k1.***/timeline" in logged, "the request lines are there, masked"

    report = enforce(
        harness.radar.ledger,
        [harness.radar.timelines, harness.radar.worklist, harness.radar.monitoring],
        bootstrap.identity_vault(settings),
        RetentionPolicy.load(),
        lambda: NOW,
    )
    assert dict(report.expired) == {"signals_without_case": 1}
    harness.get(f"/v1/households/{FAMILY}/timeline?purpose=triage")  # after: also not named

    logged = _log_text(settings.logs_dir)
    for name in (FAMILY, child, FAMILY.split(".")[2], child.split(".")[2]):
        assert name not in logged
    # the access log keeps naming the household: it is the accountability record
    assert any(e.payload.get("subject") == FAMILY for e in harness.log.entries())
