"""Veilig Thuis's findings as the people involved would tell them, on the real broker and both
databases: signals come in through Kafka, an analyst finds one unfounded through the query API
and it leaves the score (while the audit replay before the finding still shows the original);
an analyst protects a school that reported, and the household's inzage then names neither the
school nor its sector, and says that a source was withheld and on what ground."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient

from privacy.addresses import HomeAddress
from privacy.storage.vault import Identity
from radar.household import Household
from services import bootstrap
from services.audit import service
from services.audit.snapshot import Selection
from services.database import Database
from services.rights.protection import GROUND
from services.rights.service import HTML_NAME, JSON_NAME, InzageSources, produce
from services.settings import Settings
from tests.support.aggregating import aggregating
from tests.support.radar_fixtures import FAMILY, Harness, radar_query_harness, signal

SUBJECT, PARENT = "111222333", "123456782"  # synthetic, pass the elfproef
HOME = HomeAddress.normalised("3511 AB", 12)
PURPOSE = "signal_finding"
REASON = "Na onderzoek door Veilig Thuis bleek de melding niet te kloppen."


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


def _publish(harness: Harness, topic: str, admin: KafkaAdminClient, *signals: Any) -> None:
    """Through the signals topic, as ingest writes them, into the harness's ledger."""
    with aggregating(harness.radar.ledger, topic, admin) as member:
        member.publish(*signals)
    harness.radar.project()


def _settings(tmp_path: Path, database: Database) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database.url)  # the harness's


def _step(harness: Harness, household: str, signal_id: Any, step: str) -> dict[str, Any]:
    path = f"/v1/households/{household}/signals/{signal_id}/{step}"
    answer = harness.post(path, {"purpose": PURPOSE, "reason": REASON})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _replayed(settings: Settings, moment: datetime) -> tuple[dict[str, Any], Decimal]:
    report = service.replay_report(
        settings, bootstrap.read_models, moment, Selection(household=FAMILY)
    )
    [household] = report["households"]
    [score] = report["read_models"]["radar_household_scores"]
    return {s["signal_id"]: s for s in household["signals"]}, Decimal(score["score"])


def test_an_unfounded_signal_leaves_the_score_and_the_replay_before_shows_the_original(
    harness: Harness, topic: str, kafka_admin: KafkaAdminClient, tmp_path: Path, database: Database
) -> None:
    now = datetime.now(UTC)
    police = signal("zorgmelding", now - timedelta(days=12), severity="acute")
    school = signal("school_absence", now - timedelta(days=4), severity="moderate")
    _publish(harness, topic, kafka_admin, police, school)
    risk = harness.get(f"/v1/households/{FAMILY}/risk", params={"purpose": "triage"}).json()
    original = Decimal(risk["score_now"])
    # the last moment before the finding: when the store recorded the score it had then
    before = harness.radar.events(Household.ScoreChanged)[-1].timestamp

    logged = harness.log.count()
    found = _step(harness, FAMILY, police.event_id, "unfounded")
    [entry] = harness.entries_after(logged)  # decided and logged once, under the purpose
    assert (entry["purpose"], entry["resource"], entry["outcome"]) == (
        PURPOSE,
        "worklist",
        "permit",
    )
    assert entry["fields"] == ["signal_finding"]
    harness.radar.project()

    risk = harness.get(f"/v1/households/{FAMILY}/risk", params={"purpose": "triage"}).json()
    assert Decimal(risk["score_now"]) < original
    assert Decimal(found["score"]) < original
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
    assert {s["signal_id"]: s.get("unfounded") for s in timeline.json()["signals"]} == {
        str(police.event_id): True,
        str(school.event_id): None,
    }

    settings = _settings(tmp_path, database)
    signals, score_before = _replayed(settings, before)
    assert set(signals) == {str(police.event_id), str(school.event_id)}
    assert "unfounded" not in signals[str(police.event_id)]
    signals, score_after = _replayed(settings, datetime.now(UTC))
    assert signals[str(police.event_id)]["unfounded"] is True
    assert score_after < score_before


def test_the_inzage_of_a_household_with_a_protected_reporter_does_not_name_it(
    harness: Harness, topic: str, kafka_admin: KafkaAdminClient, tmp_path: Path, database: Database
) -> None:
    settings = _settings(tmp_path, database)
    keys = bootstrap.pseudonyms(settings).pseudonymiser()
    household, child, parent = keys.household(HOME), keys.person(SUBJECT), keys.person(PARENT)
    vault = bootstrap.identity_vault(settings)
    vault.deposit([Identity(household, HOME, ((child, SUBJECT), (parent, PARENT)))], keys)
    now = datetime.now(UTC)
    people = {"household": household, "children": (child,), "adults": (parent,)}
    school = signal("school_absence", now - timedelta(days=9), **people)
    police = signal("zorgmelding", now - timedelta(days=3), **people)
    _publish(harness, topic, kafka_admin, school, police)

    protected = _step(harness, household, school.event_id, "reporter-protection")
    assert school.organisation not in str(protected)

    sources = InzageSources(
        vault, keys, harness.radar.timelines, harness.log, harness.radar.ledger.notifications
    )
    out = tmp_path / "inzage"
    export = produce(sources, SUBJECT, "Verzoek van betrokkene", out, datetime.now(UTC))
    document = export.document
    written = (out / JSON_NAME).read_bytes() + (out / HTML_NAME).read_bytes()
    for named in (school.organisation.encode(), b"education", b"school_absence"):
        assert named not in written
    assert police.organisation.encode() in written  # an unprotected source is named
    listed = {s["signal_id"]: s for s in document["signals"]}
    assert set(listed) == {str(school.event_id), str(police.event_id)}  # still listed
    assert listed[str(school.event_id)]["source_withheld"] is True
    assert document["sources"] == [
        {"organisation": police.organisation, "sector": "police", "signals": 1}
    ]
    assert document["withheld_sources"]["signals"] == 1
    assert document["withheld_sources"]["ground"] == GROUND
    assert "AVG art. 23" in (out / HTML_NAME).read_text(encoding="utf-8")
    assert "Afgeschermde bronnen" in (out / HTML_NAME).read_text(encoding="utf-8")
