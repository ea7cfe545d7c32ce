"""Terugmelding as the reporting organisations would read it, on the real broker and both
databases: signals published through Kafka, Veilig Thuis deciding and closing through the query
API, and each publisher reading `GET /v1/feeds/signal-status` with its own credentials: the
status of its own signals after the decision and after closure, the OM's decision, nothing of
anyone else's; the feed read from the start in pages gives every item once, and a rebuild from
the store gives the same items, cursors and ids; retention erasing a household takes its
feedback with it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from contracts.regions import VtRegion
from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience
from privacy.retention import RetentionPolicy
from services import bootstrap
from services.database import Database
from services.feedback.store import FeedbackStore
from services.projections.projector import Projector, rebuild
from services.retention.service import enforce
from services.settings import Settings
from tests.support.aggregating import InProcessAggregator
from tests.support.casework_story import Clock, at, close_investigation, decide
from tests.support.inspection import database_bytes
from tests.support.radar_fixtures import FAMILY, OTHER_FAMILY, Harness, signal
from tests.support.signals_v2 import person, signal_v2

POLICE = "politie-midden-nederland"  # the fixtures' organisations (radar_fixtures._ORGANISATIONS)
SCHOOL = "obs-de-regenboog"
GGZ = "ggz-centraal"
NOBODY = "huisartsen-utrecht"  # publishes nothing in these stories
FEED = "/v1/feeds/signal-status"
BODY_KEYS = FeedbackStore.fields


@pytest.fixture
def store(harness: Harness) -> FeedbackStore:
    return FeedbackStore(harness.radar.worklist.engine, harness.radar.worklist.sealer)


def _project(harness: Harness, store: FeedbackStore) -> None:
    harness.radar.project()
    Projector(harness.radar.ledger, store, batch_size=3).catch_up()


def _feed(harness: Harness, organisation: str, after: int = 0, limit: int = 100) -> Any:
    """One read of the feed by the organisation's reporter."""
    reporter = Analyst("contact", organisation, AnalystRole.REPORTER, VtRegion.VT09)
    token = harness.authority.issue(reporter, Audience.QUERY, timedelta(hours=1))
    answer = harness.client.get(
        FEED,
        params={"purpose": "reporter_feedback", "after": after, "limit": limit},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _statuses(harness: Harness, organisation: str) -> list[dict[str, Any]]:
    return [item["body"] for item in _feed(harness, organisation)["items"]]


def _story(member: InProcessAggregator, harness: Harness, clock: Clock) -> dict[str, str]:
    """Monday 2 November 2026: the police and the school signal about the family, GGZ about
    another; Veilig Thuis receives a report and takes it on on Thursday (working day 3)."""
    day = date(2026, 11, 2)
    zorgmelding = signal("zorgmelding", at(day, 1))
    absence = signal("school_absence", at(day, 8), severity="moderate")
    elsewhere = signal("kindcheck_concern", at(day, 9), household=OTHER_FAMILY)
    report = signal("vt_report", at(day, 11))
    member.publish(zorgmelding, absence, elsewhere, report)
    return {
        "police": str(zorgmelding.event_id),
        "school": str(absence.event_id),
        "ggz": str(elsewhere.event_id),
        "report": str(report.event_id),
    }


def test_each_reporter_hears_the_decision_and_the_closure_about_its_own_signals_only(
    harness: Harness, member: InProcessAggregator, store: FeedbackStore, clock: Clock
) -> None:
    ids = _story(member, harness, clock)
    _project(harness, store)
    assert _statuses(harness, POLICE) == [
        {"status": "recorded", "signals": [ids["police"]], "on": "2026-11-02", "final": False}
    ]

    assessment = decide(harness, clock, ids["report"], date(2026, 11, 5), "own_investigation")
    later = signal("behavioural_concern", at(date(2026, 11, 6)), severity="moderate")
    member.publish(later)  # after the decision: it waits for the next one
    _project(harness, store)
    taken_on = {"status": "taken_on", "on": "2026-11-05", "final": False, "within_norm": True}
    police, school = _statuses(harness, POLICE), _statuses(harness, SCHOOL)
    assert police[1] == {**taken_on, "signals": [ids["police"]], "decision": "own_investigation"}
    assert school[1] == {**taken_on, "signals": [ids["school"]]}, "the decision: police only"
    assert school[2]["status"] == "recorded" and len(school) == 3

    close_investigation(harness, clock, FAMILY, assessment, date(2026, 12, 10), "not_confirmed")
    _project(harness, store)
    ended = {"status": "ended", "on": "2026-12-10", "final": True}
    assert _statuses(harness, POLICE)[2] == {
        **ended,
        "signals": [ids["police"]],
        "conclusion": "not_confirmed",
    }
    assert _statuses(harness, SCHOOL)[3] == {**ended, "signals": [ids["school"]]}, (
        "the conclusion is about the household, not the school's signal: police only"
    )

    clock.now = at(date(2026, 12, 11))
    path = f"/v1/households/{FAMILY}/signals/{later.event_id}/unfounded"
    reason = "Na onderzoek bleek het signaal niet te kloppen."
    found = harness.post(path, {"purpose": "signal_finding", "reason": reason})
    assert found.status_code == 201, found.text
    _project(harness, store)
    unfounded = {"status": "found_unfounded", "on": "2026-12-11", "final": True}
    assert _statuses(harness, SCHOOL)[4] == {**unfounded, "signals": [str(later.event_id)]}
    assert len(_statuses(harness, POLICE)) == 3, "the finding is the school's to hear alone"

    ggz = _statuses(harness, GGZ)
    assert ggz == [
        {"status": "recorded", "signals": [ids["ggz"]], "on": "2026-11-02", "final": False}
    ], "another household's decision says nothing to GGZ"
    assert _feed(harness, NOBODY)["items"] == [], "an organisation that published nothing"
    assert _feed(harness, "vt-utrecht")["items"] == [], "Veilig Thuis's own report: no feedback"
    everything = [i["body"] for o in (POLICE, SCHOOL, GGZ) for i in _feed(harness, o)["items"]]
    assert all(set(body) <= BODY_KEYS for body in everything), "no score, alert or other reporter"
    for organisation, own in (
        (POLICE, {ids["police"]}),
        (SCHOOL, {ids["school"], str(later.event_id)}),
    ):
        seen = {
            s for item in _feed(harness, organisation)["items"] for s in item["body"]["signals"]
        }
        assert seen == own, f"{organisation} reads only its own signals"


def test_every_read_is_an_access_log_entry_and_another_role_is_refused(
    harness: Harness, member: InProcessAggregator, store: FeedbackStore, clock: Clock
) -> None:
    _story(member, harness, clock)
    _project(harness, store)
    before = len(harness.log.entries())
    _feed(harness, POLICE)
    [entry] = harness.entries_after(before)
    assert (entry["resource"], entry["purpose"], entry["outcome"]) == (
        "signal_feedback",
        "reporter_feedback",
        "permit",
    )
    refused = harness.get(FEED, params={"purpose": "reporter_feedback"})  # a triage analyst
    assert refused.status_code == 403, refused.text


def test_the_feed_from_the_start_gives_every_item_once_and_a_rebuild_the_same(
    harness: Harness, member: InProcessAggregator, store: FeedbackStore, clock: Clock
) -> None:
    ids = _story(member, harness, clock)
    decide(harness, clock, ids["report"], date(2026, 11, 12), "handover_local_team")
    decision = signal_v2(
        "prosecution_decision",
        at(date(2026, 11, 20)),
        FAMILY,
        [person("p.k1." + "1" * 32, "suspected_perpetrator")],
        sector="public_prosecution",
        organisation="om-midden-nederland",
    )
    member.publish(decision)
    _project(harness, store)

    school = _statuses(harness, SCHOOL)
    assert [b["status"] for b in school] == ["recorded", "handed_over", "prosecution_decided"]
    assert school[1]["final"] and not school[1]["within_norm"], "day 8: past the norm"
    assert _statuses(harness, "om-midden-nederland") == [], "the OM's decision is no signal to it"

    whole = _feed(harness, POLICE)
    paged: list[dict[str, Any]] = []
    after = 0
    while True:
        page = _feed(harness, POLICE, after=after, limit=1)
        paged += page["items"]
        after = page["next_after"]
        if not page["more"]:
            break
    assert paged == whole["items"] and len({i["id"] for i in paged}) == len(paged) == 3
    assert [i["cursor"] for i in paged] == sorted(i["cursor"] for i in paged)

    before = store.dump()
    rebuild(harness.radar.ledger, store, batch_size=2)
    assert store.dump() == before
    assert _feed(harness, POLICE) == whole, "the same items, cursors and ids after a rebuild"


def test_an_erased_household_leaves_no_feedback_and_names_nobody(
    harness: Harness, store: FeedbackStore, database: Database, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    years_ago = now - timedelta(days=3 * 365)  # no alert, so no case: the shorter period
    old = signal("zorgmelding", years_ago, severity="low", received_at=years_ago)
    recent = signal("domestic_incident", now - timedelta(days=10), household=OTHER_FAMILY)
    harness.radar.record(old, recent)
    _project(harness, store)
    assert len(_feed(harness, POLICE)["items"]) == 2

    radar, sealer = harness.radar, harness.radar.worklist.sealer
    stores = [radar.timelines, radar.worklist, radar.monitoring, store, sealer]
    vault = bootstrap.identity_vault(
        Settings(data_dir=tmp_path / "data", database_url=database.url)
    )
    report = enforce(radar.ledger, stores, vault, RetentionPolicy.load(), lambda: now)
    assert dict(report.expired) == {"signals_without_case": 1}
    [kept] = _feed(harness, POLICE)["items"]
    assert kept["body"]["signals"] == [str(recent.event_id)], "the other household's stays"
    raw = database_bytes(database)
    assert str(old.event_id).encode() not in raw and FAMILY.encode() not in raw
    assert store.rows_about([FAMILY]) == {"radar_feedback_signals": [], "radar_feedback_items": []}
