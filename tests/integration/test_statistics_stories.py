"""Stories of the statistics, through the real broker into SQLite and PostgreSQL: a household
reported again after its monitoring closed shows in the repeat figure (and, replayed as of the
moment before, does not); the CBS file of a small known history (reports, advice requests,
safety assessments, investigations) is the hand count after disclosure control, is logged,
holds no identifier, and comes out the same when run again."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from typer.testing import CliRunner

from contracts.leak_guard import contains_identifier
from contracts.signal_v2 import SignalEventV2
from privacy.recipients import DEFAULT_RECIPIENTS
from privacy.storage.access_log import EntryKind
from radar.alerts import StaffRef
from radar.case import HouseholdCase
from radar.case_assessment import Step
from radar.effect_monitor import effect_monitor
from radar.periods import Period
from radar.safety_assessment import InvestigationOutcome, instrument
from services.cli import app
from services.database import Database
from services.statistics.cbs_export import CbsSources, export_cbs
from services.statistics.replay import history_as_of
from tests.support.aggregating import InProcessAggregator, aggregating
from tests.support.radar_fixtures import (
    FAMILY,
    MONITORING_UTRECHT,
    OTHER_FAMILY,
    Radar,
)

SEPTEMBER = datetime(2026, 9, 15, 10, 0, tzinfo=UTC)


def household(number: int) -> str:
    return f"hh.k1.{number:032x}"


def vt_signal(
    kind: str,
    home: str,
    at: datetime,
    region: str = "VT09",
    forms: tuple[str, ...] = ("physical_violence",),
    reported_by: str | None = None,
) -> SignalEventV2:
    """A report or advice request a Veilig Thuis region publishes (signal.v2), saying who
    reported it to Veilig Thuis when `reported_by` is given."""
    said = {} if reported_by is None else {"reported_by": reported_by}
    return SignalEventV2.model_validate(
        said
        | {
            "event_id": str(uuid.uuid4()),
            "organisation": "vt-utrecht" if region == "VT09" else "vt-amsterdam-amstelland",
            "sector": "veilig_thuis",
            "signal_type": kind,
            "severity": "high",
            "forms_of_violence": list(forms),
            "occurred_at": at.isoformat(),
            "reported_at": at.isoformat(),
            "received_at": at.isoformat(),
            "region": region,
            "household": home,
            "persons": [{"pseudonym": f"p.k1.{home[-32:]}", "roles": ["child"], "age": 6}],
            "pseudonym_key_id": "k1",
        }
    )


@pytest.fixture
def radar_and_member(
    database: Database, topic: str, kafka_admin: KafkaAdminClient
) -> Iterator[tuple[Radar, InProcessAggregator]]:
    """The radar's ledger on the database, fed by an aggregator from the real broker."""
    opened = Radar(database)
    try:
        with aggregating(opened.ledger, topic, kafka_admin) as running:
            yield opened, running
    finally:
        opened.close()


def _close_monitoring(radar: Radar, home: str, achieved: bool) -> datetime:
    starts = datetime.now(UTC).date() - timedelta(days=100)
    plan = radar.ledger.record_conditions(
        home, MONITORING_UTRECHT, ["No violence at home"], [], starts,
        starts + timedelta(days=90), [starts + timedelta(days=45)],
    )  # fmt: skip
    radar.ledger.close_monitoring(home, plan, MONITORING_UTRECHT, achieved, "Closed.")
    closures = radar.events(HouseholdCase.MonitoringClosed)
    moment: datetime = next(e for e in closures if e.plan_id == plan).timestamp
    return moment


def _half_year_of(moment: datetime) -> Period:
    return Period.parse(f"{moment.year}H{1 if moment.month <= 6 else 2}")


def test_a_household_reported_again_after_closure_shows_in_the_repeat_figure(
    radar_and_member: tuple[Radar, InProcessAggregator],
) -> None:
    radar, member = radar_and_member
    now = datetime.now(UTC)
    member.publish(
        vt_signal("vt_report", FAMILY, now - timedelta(days=200)),
        vt_signal("vt_report", OTHER_FAMILY, now - timedelta(days=150)),
    )
    _close_monitoring(radar, OTHER_FAMILY, achieved=True)
    closed = _close_monitoring(radar, FAMILY, achieved=False)
    member.publish(vt_signal("vt_report", FAMILY, closed + timedelta(minutes=1)))
    later = datetime.now(UTC) + timedelta(minutes=1)
    period = _half_year_of(closed)

    figures = effect_monitor(history_as_of(radar.ledger, later), period, later)["VT09"]
    assert figures["monitoring_closed"].value == 2
    assert figures["repeat_reports_within_12_months"].value == 1
    assert figures["safety_achieved_share"].value == 0.5
    assert figures["repeat_window_complete"].value == 0, "twelve months have not passed"
    assert "within 12 months" in figures["repeat_reports_within_12_months"].definition

    # As of the closure the repeat report had not arrived: the replay shows what was known then.
    before = effect_monitor(history_as_of(radar.ledger, closed), period, closed)["VT09"]
    assert before["monitoring_closed"].value == 2
    assert before["repeat_reports_within_12_months"].value == 0


def _known_history() -> list[SignalEventV2]:
    """2026H2: VT09 has 12 reports (3 of them also sexual violence) and 4 advice requests, none
    saying who reported; VT13 has 25 reports, 15 reported by the police and 10 by a school. One
    VT13 report is from the first half-year and does not count."""
    signals = [
        vt_signal(
            "vt_report",
            household(n),
            SEPTEMBER + timedelta(days=n),
            forms=("physical_violence", "sexual_violence") if n < 3 else ("physical_violence",),
        )
        for n in range(12)
    ]
    signals += [
        vt_signal("vt_advice_request", household(100 + n), SEPTEMBER, forms=("neglect",))
        for n in range(4)
    ]
    signals += [
        vt_signal("vt_report", household(200 + n), SEPTEMBER, "VT13",
                  reported_by="police" if n < 15 else "education")
        for n in range(25)
    ]  # fmt: skip
    signals.append(vt_signal("vt_report", household(300), SEPTEMBER - timedelta(days=90), "VT13"))
    return signals


def _assess_vt13(radar: Radar, reports: list[SignalEventV2]) -> None:
    """VT13 assesses its 25 reports of the half-year: 15 own investigations (12 of them closed
    as confirmed within it) and 10 handovers to the local team."""
    ours = [r for r in reports if r.region == "VT13" and r.occurred_at >= SEPTEMBER]
    staff = StaffRef("d.visser", "vt-amsterdam-amstelland", "safety_assessment", "VT13")
    for number, report in enumerate(ours):
        decision = "own_investigation" if number < 15 else "handover_local_team"
        answers = instrument(1).answer(False, True, "regular", [], decision)
        at = Step(staff, "Assessed with the instrument.", SEPTEMBER + timedelta(days=10))
        home, report_id = report.household, str(report.event_id)
        assessment = radar.ledger.assess_report(home, report_id, at, 1, answers)
        if number < 12:
            closed = Step(staff, "Concluded.", SEPTEMBER + timedelta(days=40))
            radar.ledger.close_investigation(
                home, assessment, closed, InvestigationOutcome.CONFIRMED
            )


def _cells(path: Path) -> dict[tuple[str, str, str], tuple[str, int | None]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "period,delivery,table,region,category,status,count"
    cells = {}
    for line in lines[1:]:
        _period, _delivery, table, region, category, status, count = line.split(",")
        cells[table, region, category] = (status, int(count) if count else None)
    return cells


def _rounded(count: int) -> set[int]:
    return {count - count % 5, count - count % 5 + (5 if count % 5 else 0)}


def test_the_cbs_file_of_a_known_history_is_its_hand_count_after_disclosure_control(
    radar_and_member: tuple[Radar, InProcessAggregator], database: Database, tmp_path: Path
) -> None:
    radar, member = radar_and_member
    history = _known_history()
    member.publish(*history)
    _assess_vt13(radar, history)
    engine = database.engine()
    access_log = database.access_log(engine)
    sources = CbsSources(DEFAULT_RECIPIENTS, radar.ledger, access_log, b"k" * 32)
    as_of = datetime.now(UTC) + timedelta(minutes=1)
    done = export_cbs(sources, "cbs", "2026H2", tmp_path / "cbs", as_of, "fg-1")
    cells = _cells(tmp_path / "cbs" / "beleidsinformatie-2026H2-d1.csv")

    # The contacts: VT09's 4 advice requests (and so the national 4) are under 10; VT09's
    # 12 reports and the national 37 go with them, or 4 = 16 - 12 would follow.
    contacts = {k[1:]: v for k, v in cells.items() if k[0] == "contacts"}
    suppressed = {k for k, (status, _count) in contacts.items() if status != "published"}
    assert suppressed == {
        ("VT09", "advice_request"),
        ("total", "advice_request"),
        ("VT09", "report"),
        ("total", "report"),
    }
    for cell, true in {
        ("VT09", "total"): 16,
        ("VT13", "report"): 25,
        ("total", "total"): 41,
    }.items():
        assert contacts[cell][1] in _rounded(true)
    assert contacts["VT01", "total"] == ("published", 0)
    # By form: the 3 reports of sexual violence are suppressed, nationally too; every count
    # of a report total follows the contacts table (suppressed there, so here).
    forms = {k[1:]: v for k, v in cells.items() if k[0] == "report_by_form_of_violence"}
    assert forms["VT09", "sexual_violence"][0] == "suppressed_primary"
    assert forms["total", "sexual_violence"][0] == "suppressed_primary"
    assert forms["VT09", "total"][0] == forms["total", "total"][0] == "suppressed_secondary"
    assert forms["VT13", "physical_violence"] == ("published", 25)
    assert forms["VT09", "physical_violence"][1] in _rounded(12)
    # By the reporter's role: VT13's reports as reported by the police and a school; VT09's,
    # which did not say, under not_known (and none under the sending sector, veilig_thuis).
    reporters = {k[1:]: v for k, v in cells.items() if k[0] == "report_by_sector"}
    assert reporters["VT13", "police"][1] in _rounded(15)
    assert reporters["VT13", "education"] == ("published", 10)
    assert reporters["VT13", "veilig_thuis"] == reporters["VT13", "not_known"] == ("published", 0)
    assert reporters["VT09", "not_known"][0] == "suppressed_secondary"  # 12 = VT09's total
    assert reporters["total", "veilig_thuis"] == ("published", 0)
    advice = {k[1:]: v for k, v in cells.items() if k[0] == "advice_request_by_sector"}
    assert advice["VT09", "not_known"][0] == "suppressed_primary"
    assert advice["VT09", "veilig_thuis"] == ("published", 0)
    follow_up = {k[1:]: v for k, v in cells.items() if k[0] == "report_by_follow_up"}
    assert follow_up["VT13", "own_investigation"][1] in _rounded(15)
    assert follow_up["VT13", "handover_local_team"] == ("published", 10)
    assert follow_up["VT13", "not_assessed"] == ("published", 0)
    assert follow_up["VT09", "not_assessed"][0] == "suppressed_secondary"  # 12 = VT09's total
    investigations = {k[1:]: v for k, v in cells.items() if k[0] == "investigations"}
    assert investigations["VT13", "confirmed"][1] in _rounded(12)
    assert investigations["VT13", "not_confirmed"] == ("published", 0)
    assert done.self_check["passed"]
    layout = json.loads((tmp_path / "cbs" / "beleidsinformatie.schema.json").read_text())
    assert layout["x-tables"]["report_by_sector"][-3:] == [
        "anonymous",
        "other_citizen",
        "not_known",
    ]
    assert (
        layout["x-reporters"]["neighbour_or_acquaintance"]["dutch"]
        == "Buren, vrienden of kennissen"
    )

    # The delivery is in the access log, without a count; the files hold no identifier.
    [entry] = [e for e in access_log.entries() if e.kind == EntryKind.EXPORT]
    assert entry.payload["recipient"] == "cbs" and entry.payload["period"] == "2026H2"
    assert entry.payload["suppressed_primary"] >= 6
    for path in done.files:
        content = path.read_bytes()
        assert not contains_identifier(content.decode())
        assert b"hh.k1." not in content and b"p.k1." not in content

    # Run again as of the same moment: the same file; then a redelivery, numbered 2.
    again = export_cbs(sources, "cbs", "2026H2", tmp_path / "rerun", as_of, "fg-1")
    assert again.files[0].read_bytes() == done.files[0].read_bytes()
    second = export_cbs(sources, "cbs", "2026H2", tmp_path / "cbs", as_of, "fg-1")
    assert second.files[0].name == "beleidsinformatie-2026H2-d2.csv"
    engine.dispose()


def test_the_command_refuses_what_is_not_a_half_year_and_logs_a_delivery(
    radar_and_member: tuple[Radar, InProcessAggregator],
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _radar, member = radar_and_member
    member.publish(vt_signal("vt_report", household(1), SEPTEMBER))
    assert database.keys_dir is not None
    monkeypatch.setenv("RADAR_DATA_DIR", str(database.keys_dir.parent))  # the same keys
    monkeypatch.setenv("RADAR_DATABASE_URL", database.url)
    out = tmp_path / "cbs"
    refused = CliRunner().invoke(app, ["export", "cbs", "--period", "2026Q3", "--out", str(out)])
    assert refused.exit_code == 2
    assert "not a half-year" in refused.stderr
    assert not out.exists()

    done = CliRunner().invoke(app, ["export", "cbs", "--period", "2026H2", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert (out / "beleidsinformatie-2026H2-d1.csv").exists()
    engine = database.engine()
    exports = [e for e in database.access_log(engine).entries() if e.kind == EntryKind.EXPORT]
    assert [e.payload["recipient"] for e in exports] == ["cbs"]
    assert f"access log entry {exports[0].seq}" in done.stdout
    engine.dispose()
