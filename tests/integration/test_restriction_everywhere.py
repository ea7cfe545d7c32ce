"""A restriction of processing (AVG art. 18) holds in every view, on SQLite and PostgreSQL,
through the query API as the composition root builds it: with household R restricted, nothing
recorded at R reaches an ordinary purpose through another household where one of R's children
also lives, through that child's person view, the worklist, a household's risk, the notices,
the monitoring overview, a recipient's extract, the audit replay's purpose view or the model
diff's list of households; it is
counted as withheld, never described; lifting the restriction shows it all again; the purposes
with `restricted_access` see it throughout. The property at the end holds it for any
households, memberships and restrictions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from privacy.actors import AnalystRole
from privacy.pseudonyms import PseudonymKeyring
from privacy.purposes import PurposeRegister
from radar.risk_model import DEFAULT_MODEL_FILE
from services import bootstrap
from services.audit import service as audit
from services.audit.snapshot import Selection
from services.casework.cli import model_cli
from services.database import Database
from services.rights.cli import export_for
from services.rights.extracts import ExportError, Window
from services.settings import Settings
from tests.support.radar_fixtures import (
    CHILD,
    MONITORING_UTRECHT,
    MOTHER,
    SECOND_CHILD,
    Harness,
    radar_query_harness,
    signal,
)
from tests.support.recipients import RESEARCH, write_register

R = "hh.k1." + "a" * 32  # the restricted household
H = "hh.k1." + "b" * 32  # another household where R's child also lives
PO = AnalystRole.PRIVACY_OFFICER
TRIAGE = AnalystRole.TRIAGE
JUSTIFICATION = "Acute zorg om het kind, overleg met de regio van herkomst."
REASON = "Betrokkene betwist de juistheid van de signalen (art. 18 lid 1 sub a)."


def ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


@pytest.fixture
def radar_settings(tmp_path: Path, database: Database) -> Settings:
    """The harness's settings, with a recipient register and the radar's pseudonym keyring."""
    write_register(tmp_path)
    found = Settings(
        data_dir=tmp_path / "data",
        database_url=database.url,
        recipient_register=tmp_path / "recipients.toml",
    )
    PseudonymKeyring.load_or_create(found.pseudonym_keyring_path)
    return found


def restrict(harness: Harness, subject: str) -> str:
    placed = harness.post(
        "/v1/restrictions", {"subject": subject, "reason": REASON, "purpose": "accountability"}, PO
    )
    assert placed.status_code == 201, placed.text
    restriction_id: str = placed.json()["restriction_id"]
    return restriction_id


def lift(harness: Harness, restriction_id: str) -> None:
    lifted = harness.post(
        f"/v1/restrictions/{restriction_id}/lift", {"purpose": "accountability"}, PO
    )
    assert lifted.status_code == 200, lifted.text


def read(harness: Harness, path: str, purpose: str, role: AnalystRole = TRIAGE) -> Any:
    answer = harness.get(path, role, params={"purpose": purpose})
    assert answer.status_code == 200, answer.text
    return answer.json()


def signal_ids(view: dict[str, Any]) -> set[str]:
    return {s["signal_id"] for s in view["signals"]}


def explained(view: dict[str, Any]) -> set[str]:
    """The signal ids an alert's or a household risk's explanation shows."""
    return {c["signal_id"] for c in view["explanation"] if c.get("signal_id")}


def the_story(harness: Harness) -> dict[str, set[str]]:
    """CHILD lives at H, then also at R; R has a threshold alert, conditions under
    monitoring, and was opened from another region (a notice for VT09). The signal ids by
    household."""
    at_h = [
        signal("zorgmelding", ago(40), household=H, children=(CHILD, SECOND_CHILD), adults=()),
        signal("school_absence", ago(38), household=H, children=(CHILD, SECOND_CHILD), adults=()),
    ]
    at_r = [
        signal("huisverbod", ago(10), household=R, children=(CHILD,), adults=(MOTHER,)),
        signal("school_absence", ago(8), household=R, children=(CHILD,), adults=()),
    ]
    harness.radar.record(*at_h)
    harness.radar.record(*at_r)
    start = ago(5).date()
    harness.radar.ledger.record_conditions(
        R,
        MONITORING_UTRECHT,
        ["Geen geweld thuis"],
        ["huisverbod"],
        start,
        _year(start),
        _checks(start),
    )
    harness.radar.project()
    opened = harness.post(
        "/v1/households/timeline",
        {"household": R, "purpose": "triage", "justification": JUSTIFICATION},
        region="VT13",
    )
    assert opened.status_code == 200, opened.text
    return {
        H: {str(s.event_id) for s in at_h},
        R: {str(s.event_id) for s in at_r},
    }


def _year(start: date) -> date:
    return start + timedelta(days=365)


def _checks(start: date) -> list[date]:
    return [start + timedelta(days=90)]


def test_a_restricted_household_is_withheld_from_every_view_until_lifted(
    harness: Harness,
) -> None:
    ids = the_story(harness)
    h_timeline = read(harness, f"/v1/households/{H}/timeline", "triage")
    assert signal_ids(h_timeline) == ids[H] | ids[R], "R's signals show via CHILD before"
    child = read(harness, f"/v1/persons/{CHILD}/timeline", "triage")
    assert {m["household"] for m in child["memberships"]} == {H, R}
    worklist = read(harness, "/v1/worklist", "triage")
    assert R in {a["household"] for a in worklist["alerts"]}
    assert [n["household"] for n in read(harness, "/v1/notices", "triage")["notices"]] == [R]
    monitoring = read(harness, "/v1/monitoring", "monitoring", AnalystRole.MONITORING)
    assert [p["household"] for p in monitoring["plans"]] == [R]

    restriction = restrict(harness, R)
    assert harness.get(f"/v1/households/{R}/risk", params={"purpose": "triage"}).status_code == 403

    h_timeline = read(harness, f"/v1/households/{H}/timeline", "triage")
    assert signal_ids(h_timeline) == ids[H]
    assert h_timeline["withheld"] == len(ids[R])
    assert R not in orjson.dumps(h_timeline).decode()
    child = read(harness, f"/v1/persons/{CHILD}/timeline", "triage")
    assert signal_ids(child) == ids[H] and child["withheld"] == len(ids[R])
    assert [m["household"] for m in child["memberships"]] == [H], "R's membership is withheld"
    assert R not in orjson.dumps(child).decode()
    for purpose, role in (("triage", TRIAGE), ("monitoring", AnalystRole.MONITORING)):
        worklist = read(harness, "/v1/worklist", purpose, role)
        assert R not in orjson.dumps(worklist["alerts"]).decode()
        assert not ids[R] & {i for a in worklist["alerts"] for i in explained(a)}
        assert worklist["withheld"] >= 1
        notices = read(harness, "/v1/notices", purpose, role)
        assert (notices["notices"], notices["withheld"]) == ([], 1)
    monitoring = read(harness, "/v1/monitoring", "monitoring", AnalystRole.MONITORING)
    assert (monitoring["plans"], monitoring["withheld"]) == ([], 1)
    for purpose in ("legal_claims", "subject_request"):  # restricted_access: everything
        claims = read(harness, f"/v1/households/{H}/timeline", purpose, PO)
        assert signal_ids(claims) == ids[H] | ids[R] and "withheld" not in claims
        claims = read(harness, f"/v1/persons/{CHILD}/timeline", purpose, PO)
        assert {m["household"] for m in claims["memberships"]} == {H, R}

    lift(harness, restriction)
    assert signal_ids(read(harness, f"/v1/households/{H}/timeline", "triage")) == ids[H] | ids[R]
    child = read(harness, f"/v1/persons/{CHILD}/timeline", "triage")
    assert {m["household"] for m in child["memberships"]} == {H, R} and "withheld" not in child
    worklist = read(harness, "/v1/worklist", "triage")
    assert R in {a["household"] for a in worklist["alerts"]} and "withheld" not in worklist
    notices = read(harness, "/v1/notices", "triage")
    assert [n["household"] for n in notices["notices"]] == [R] and "withheld" not in notices
    monitoring = read(harness, "/v1/monitoring", "monitoring", AnalystRole.MONITORING)
    assert [p["household"] for p in monitoring["plans"]] == [R] and "withheld" not in monitoring


def test_a_restricted_person_is_withheld_from_lists_and_another_households_risk(
    harness: Harness,
) -> None:
    """MOTHER restricted: R itself stays open, but the signal naming her is withheld from
    R's risk and its worklist alert (folded into the withheld line, so the lines still add up)
    and from CHILD's person view."""
    ids = the_story(harness)
    naming_mother = {
        s["signal_id"]
        for s in read(harness, f"/v1/households/{R}/timeline", "triage")["signals"]
        if MOTHER in {p["pseudonym"] for p in s["persons"]}
    }
    assert len(naming_mother) == 1
    restrict(harness, MOTHER)

    risk = read(harness, f"/v1/households/{R}/risk", "triage")
    assert explained(risk) == ids[R] - naming_mother
    assert any(c["withheld"] for c in risk["explanation"])
    alerts = [a for a in read(harness, "/v1/worklist", "triage")["alerts"] if a["household"] == R]
    assert alerts and all(explained(a) == ids[R] - naming_mother for a in alerts)
    assert MOTHER not in orjson.dumps(risk).decode() + orjson.dumps(alerts).decode()
    child = read(harness, f"/v1/persons/{CHILD}/timeline", "triage")
    assert signal_ids(child) == (ids[H] | ids[R]) - naming_mother and child["withheld"] == 1


def test_extracts_and_the_audit_replay_withhold_a_restricted_household(
    harness: Harness, radar_settings: Settings, tmp_path: Path
) -> None:
    ids = the_story(harness)
    restrict(harness, R)
    entry = export_for(radar_settings, RESEARCH, Window(), tmp_path / "out.jsonl", "fg-1")
    recipient = bootstrap.pseudonyms(radar_settings).pseudonymiser().for_recipient(RESEARCH)
    text = (tmp_path / "out.jsonl").read_text()
    assert recipient.household(R) not in text and recipient.person(MOTHER) not in text
    assert entry.payload["records"] == len(ids[H]) and entry.payload["withheld"] == len(ids[R])

    report = audit.replay_report(
        radar_settings, bootstrap.read_models, datetime.now(UTC), Selection(), "triage"
    )
    shown = {h["household"]: h for h in report["households"]}
    assert shown[R]["signals"] == [] and shown[R]["withheld"] == len(ids[R])
    assert {s["signal_id"] for s in shown[H]["signals"]} == ids[H]
    everything = audit.replay_report(
        radar_settings, bootstrap.read_models, datetime.now(UTC), Selection(), "legal_claims"
    )
    assert {s["signal_id"] for h in everything["households"] for s in h["signals"]} >= ids[R]


# --- the property ---------------------------------------------------------------------------

ORDINARY = [  # every purpose without restricted_access that reads signals, with a role of it
    (name, AnalystRole(sorted(purpose.roles)[0]))
    for name, purpose in PurposeRegister.load().purposes.items()
    if not purpose.restricted_access and purpose.sectors
]
KINDS = ["huisverbod", "zorgmelding", "school_absence"]
_numbers = itertools.count(1)


@dataclass(frozen=True)
class World:
    """Signals at a few households, naming a few persons; some subjects restricted."""

    households: list[str]
    persons: list[str]
    signals: list[tuple[int, tuple[int, ...], str, int]]  # household, persons, kind, days ago
    restricted: list[int]  # indexes into households + persons


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n = next(_numbers)  # fresh pseudonyms per example: the database is shared between them
    households = [f"hh.k1.{n:024x}{h:08x}" for h in range(draw(st.integers(2, 3)))]
    persons = [f"p.k1.{n:024x}{p:08x}" for p in range(draw(st.integers(2, 4)))]
    one = st.tuples(
        st.integers(0, len(households) - 1),
        st.sets(st.integers(0, len(persons) - 1), min_size=1, max_size=2).map(
            lambda s: tuple(sorted(s))
        ),
        st.sampled_from(KINDS),
        st.integers(1, 60),
    )
    subjects = len(households) + len(persons)
    return World(
        households,
        persons,
        draw(st.lists(one, min_size=2, max_size=6)),
        draw(st.lists(st.integers(0, subjects - 1), min_size=1, max_size=2, unique=True)),
    )


def build(harness: Harness, world: World) -> dict[str, set[str]]:
    """Records the world, opens each household from another region (notices), sets conditions
    on the household of the first signal; the subjects of every signal id."""
    recorded = [
        signal(
            kind,
            ago(days),
            household=world.households[h],
            children=[world.persons[p] for p in persons],
            adults=(),
        )
        for h, persons, kind, days in world.signals
    ]
    harness.radar.record(*recorded)
    start = ago(1).date()
    harness.radar.ledger.record_conditions(
        world.households[world.signals[0][0]],
        MONITORING_UTRECHT,
        ["Geen geweld"],
        [],
        start,
        _year(start),
        _checks(start),
    )
    harness.radar.project()
    for household in world.households:
        body = {"household": household, "purpose": "triage", "justification": JUSTIFICATION}
        assert harness.post("/v1/households/timeline", body, region="VT13").status_code == 200
    return {str(s.event_id): {s.household, *(p.pseudonym for p in s.persons)} for s in recorded}


def everything_shown(harness: Harness, world: World, purpose: str, role: AnalystRole) -> str:
    """Every answer this purpose gets about the world, as one text."""
    paths = [
        f"/v1/households/{h}/{view}" for h in world.households for view in ("timeline", "risk")
    ]
    paths += [f"/v1/persons/{p}/timeline" for p in world.persons]
    paths += ["/v1/worklist", "/v1/notices", "/v1/monitoring"]
    answers = [harness.get(path, role, params={"purpose": purpose}) for path in paths]
    return "\n".join(a.text for a in answers if a.status_code == 200)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_no_view_list_notice_or_extract_shows_what_a_restriction_withholds(
    harness: Harness, radar_settings: Settings, tmp_path: Path, world: World
) -> None:
    subjects_of = build(harness, world)
    restricted = {(world.households + world.persons)[i] for i in world.restricted}
    hidden = [i for i, subjects in subjects_of.items() if subjects & restricted]
    placed = [restrict(harness, subject) for subject in sorted(restricted)]
    try:
        for purpose, role in ORDINARY:
            shown = everything_shown(harness, world, purpose, role)
            assert not [s for s in restricted if s in shown], purpose
            assert not [i for i in hidden if i in shown], purpose
        out = tmp_path / f"extract-{world.households[0]}.jsonl"
        try:
            export_for(radar_settings, RESEARCH, Window(), out, "fg-1")
        except ExportError:
            pass  # too few records to export: nothing shown
        else:
            mine = bootstrap.pseudonyms(radar_settings).pseudonymiser().for_recipient(RESEARCH)
            theirs = {
                mine.household(s) if s.startswith("hh.") else mine.person(s) for s in restricted
            }
            text = out.read_text()
            assert not [s for s in theirs if s in text]
    finally:
        for restriction in placed:
            lift(harness, restriction)


def test_the_model_diff_counts_a_restricted_household_without_listing_it(
    harness: Harness, tmp_path: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    the_story(harness)
    text = DEFAULT_MODEL_FILE.read_text(encoding="utf-8")
    heavier = text.replace("version = 1", "version = 2", 1).replace(
        "huisverbod = { weight = 8.0,", "huisverbod = { weight = 16.0,", 1
    )
    new = tmp_path / "model.toml"
    new.write_text(heavier, encoding="utf-8")
    monkeypatch.setenv("RADAR_DATABASE_URL", database.url)
    monkeypatch.setenv("RADAR_DATA_DIR", str(tmp_path / "data"))

    before = CliRunner().invoke(model_cli, ["diff", str(new)])
    assert before.exit_code == 0, before.output
    assert f"{R}  VT09" in before.output
    restrict(harness, R)
    after = CliRunner().invoke(model_cli, ["diff", str(new)])
    assert after.exit_code == 0, after.output
    assert (
        R not in after.output
        and "not listed, restricted (AVG art. 18): 1 households" in after.output
    )
