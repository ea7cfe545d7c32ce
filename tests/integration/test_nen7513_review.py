"""The privacy officer's proactive review (NEN 7513, issue 24 item 9) finds a planted pattern of
curious access among ordinary synthetic work, written through the real query gate and access
log on both databases, and flags none of the ordinary users; `radar audit review` is itself
an entry in the log, with the user and the responsible user."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from privacy.access_review import DEFAULT_REVIEW_POLICY, ReviewPolicy
from privacy.actors import Analyst, AnalystRole
from privacy.policy import AccessRequest, Decision, PolicyDecisionPoint
from privacy.purposes import PurposeRegister, Resource
from privacy.storage.access_log import AccessLog, EntryKind
from services.audit.cli import audit_cli
from services.database import Database
from services.gate import Answer, QueryGate
from services.oversight.review import (
    ACROSS_REGIONS,
    BREAK_GLASS,
    ODD_HOURS,
    OUTSIDE_WORKLIST,
    ReviewReport,
    review,
)
from services.settings import Settings

DAY = datetime(2026, 11, 18, tzinfo=UTC)  # a Wednesday; Amsterdam is UTC+1
OFFICE = DAY + timedelta(hours=8)  # 09:00 in Amsterdam
NIGHT = DAY + timedelta(hours=22, minutes=30)  # 23:30 in Amsterdam
SINCE, UNTIL = DAY, DAY + timedelta(days=1, hours=12)
JUSTIFICATION = "Family moved here last week; earlier reports are in their region."
CURIOUS = "c.nieuwsgierig"
ORDINARY = ("a.jansen", "b.devries", "d.bakker")


def _households(tag: str, count: int) -> list[str]:
    return [f"hh.k1.{tag}{n:031x}" for n in range(count)]


ON_WORKLIST = _households("a", 20)
OFF_WORKLIST = _households("b", 8)
ELSEWHERE = _households("c", 4)  # VT13's households
WATCHED = _households("d", 1)[0]  # looked up from three regions
REGIONS = {
    **{h: "VT09" for h in [*ON_WORKLIST, *OFF_WORKLIST, WATCHED]},
    **{h: "VT13" for h in ELSEWHERE},
}


@dataclass
class Clock:
    now: datetime = OFFICE

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Office:
    """The query gate over the real access log, at a settable moment."""

    gate: QueryGate
    clock: Clock
    log: AccessLog

    def open(
        self, who: str, household: str, region: str = "VT09", *, justified: bool = False,
        break_glass: bool = False, at: datetime | None = None,
    ) -> None:  # fmt: skip
        if at is not None:
            self.clock.now = at
        actor = Analyst(who, f"vt-{region.lower()}", AnalystRole.TRIAGE, region)  # type: ignore[arg-type]
        request = AccessRequest(
            actor=actor,
            resource=Resource.HOUSEHOLD_TIMELINE,
            purpose="triage",
            subject=household,
            subject_region=REGIONS[household],
            justification=JUSTIFICATION if justified or break_glass else None,
            break_glass=break_glass,
        )

        def read(_decision: Decision) -> Answer:
            return Answer({"signals": []}, ["signals"], 1)

        self.gate.answer(request, "GET /v1/households/{household}/timeline", read)
        self.clock.now += timedelta(minutes=7)


@pytest.fixture
def office(database: Database) -> Iterator[Office]:
    engine = database.engine()
    clock = Clock()
    log = database.access_log(engine, clock=clock)
    register = PurposeRegister.load()
    log.adopt_register(register)
    gate = QueryGate(PolicyDecisionPoint(register), log, REGIONS.get, clock=clock)
    yield Office(gate, clock, log)
    engine.dispose()


def _ordinary_work(office: Office) -> None:
    """Three analysts work their worklist in office hours; one looks at a household that has no
    alert, one is called out once at night, one needs break-glass once, one follows a family
    that moved in from VT13 (whose own analyst also opens it): all below every threshold."""
    for n, who in enumerate(ORDINARY):
        office.clock.now = OFFICE + timedelta(hours=n)
        for household in ON_WORKLIST[n * 6 : n * 6 + 6]:
            office.open(who, household)
    office.open(ORDINARY[0], OFF_WORKLIST[7])
    office.open(ORDINARY[1], ON_WORKLIST[19], at=NIGHT)
    office.open(ORDINARY[2], ELSEWHERE[0], break_glass=True, at=OFFICE + timedelta(hours=5))
    office.open(ORDINARY[0], ELSEWHERE[1], justified=True)
    office.open("e.visser", ELSEWHERE[1], "VT13")


def _curious_access(office: Office) -> None:
    """One analyst browses households nobody reported at night, breaks the glass twice, and a
    household is looked up from three regions."""
    office.clock.now = NIGHT + timedelta(minutes=20)
    for household in OFF_WORKLIST[:6]:
        office.open(CURIOUS, household)
    office.open(CURIOUS, ELSEWHERE[2], break_glass=True, at=OFFICE + timedelta(hours=26))
    office.open(CURIOUS, ELSEWHERE[3], break_glass=True)
    office.open(CURIOUS, WATCHED)
    office.open("f.mulder", WATCHED, "VT13", justified=True)
    office.open("g.smit", WATCHED, "VT05", justified=True)


def _review(office: Office, policy: ReviewPolicy | None = None) -> ReviewReport:
    entries = office.log.entries(SINCE, UNTIL)
    policy = policy or ReviewPolicy.load()
    return review(entries, policy, lambda h: h in ON_WORKLIST, SINCE, UNTIL)


def test_ordinary_work_alone_is_not_flagged(office: Office) -> None:
    _ordinary_work(office)
    report = _review(office)
    assert report.findings == [] and report.accesses_reviewed == 23 and report.users == 4
    assert "Geen ongebruikelijke toegang gevonden." in report.text()


def test_the_planted_pattern_is_found_and_only_the_curious_user_flagged(office: Office) -> None:
    _ordinary_work(office)
    _curious_access(office)
    report = _review(office)
    found = {(f.pattern, f.user["subject"] if f.user else f.subjects[0]) for f in report.findings}
    assert found == {
        (OUTSIDE_WORKLIST, CURIOUS),
        (ODD_HOURS, CURIOUS),
        (BREAK_GLASS, CURIOUS),
        (ACROSS_REGIONS, WATCHED),
    }
    assert report.flagged_users() == {CURIOUS}
    outside = next(f for f in report.findings if f.pattern == OUTSIDE_WORKLIST)
    # the six browsed at night, the two behind the broken glass and the watched household
    assert outside.count == 9 and set(OFF_WORKLIST[:6]) < set(outside.subjects)
    across = next(f for f in report.findings if f.pattern == ACROSS_REGIONS)
    assert across.count == 3 and "VT05, VT09, VT13" in across.text
    text = report.text()
    assert "Veel huishoudens buiten de werklijst (1):" in text
    assert "tussen 22:00 en 06:00 (Europe/Amsterdam)" in text
    assert not any(who in text for who in ORDINARY)


def test_the_thresholds_come_from_the_policy_file(office: Office, tmp_path: Path) -> None:
    _ordinary_work(office)
    _curious_access(office)
    path = tmp_path / "review.toml"
    text = DEFAULT_REVIEW_POLICY.read_text(encoding="utf-8")
    path.write_text(text.replace("min_uses = 2", "min_uses = 3"), encoding="utf-8")
    patterns = {f.pattern for f in _review(office, ReviewPolicy.load(path)).findings}
    assert BREAK_GLASS not in patterns and ODD_HOURS in patterns
    path.write_text("version = 2\n", encoding="utf-8")  # every threshold left to its default
    assert ReviewPolicy.load(path).odd_hours.start_hour == 22


def test_the_review_command_reports_in_dutch_and_json_and_is_itself_logged(
    office: Office, tmp_path: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ordinary_work(office)
    _curious_access(office)
    settings = Settings(data_dir=tmp_path / "data", database_url=database.url)
    monkeypatch.setenv("RADAR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RADAR_DATABASE_URL", settings.resolved_database_url)
    window = ["--since", SINCE.isoformat(), "--until", UNTIL.isoformat()]
    before = office.log.count()
    runner = CliRunner()
    shown = runner.invoke(audit_cli, ["review", *window, "--operator", "fg-1"])
    assert shown.exit_code == 1, shown.output
    assert "Proactieve controle van het toegangslog" in shown.stdout
    assert f"{CURIOUS} (vt-vt09, triage, VT09) gebruikte 2 keer break-glass" in shown.stdout
    as_json = runner.invoke(audit_cli, ["review", *window, "--format", "json"])
    findings = orjson.loads(as_json.stdout)["findings"]
    assert {f["pattern"] for f in findings if f["user"] and f["user"]["subject"] == CURIOUS} >= {
        BREAK_GLASS,
        ODD_HOURS,
    }
    readings = [e for e in office.log.entries()[before:] if e.kind == EntryKind.LOG_ACCESS]
    assert [r.payload["command"] for r in readings] == ["radar audit review"] * 2
    first = readings[0].payload
    assert first["operator"]["role"] == "privacy_officer"
    assert first["operator"]["responsible"] == "fg-1" and first["read"] == [
        "access_log",
        "worklist",
    ]
    assert first["since"] == SINCE.isoformat() and first["policy_version"] == 1
