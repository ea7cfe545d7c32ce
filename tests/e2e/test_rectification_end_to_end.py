"""Corrections and retractions through the real processes, the real broker and SQLite and
PostgreSQL: the publishing organisation corrects a signal's severity and the timeline and score
follow; another organisation is refused; a correction re-sent is a duplicate; an unknown event
id, an identifier in the reason and a receipt from before corrections are refused; a school
retracts its signal and it leaves timeline and score; an audit replay before the correction
still shows the original."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Column, DateTime, MetaData, String, Table, insert

from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole, Publisher
from privacy.credentials import Audience, TokenAuthority
from services import bootstrap
from services.audit import service
from services.audit.snapshot import Selection
from services.casework.store import WorklistStore
from services.database import Database
from services.settings import Settings
from testkit.processes import running_radar
from tests.support.inspection import wait_for

HOUR = timedelta(hours=1)
FAMILY = {"postcode": "3511 AB", "house_number": 12}
BSNS = ("111222333", "123456782")
LEGACY_EVENT_ID = str(uuid.UUID(int=1))
REASON = "severity was entered against the wrong report"


def _signal(kind: str, days_ago: int, severity: str) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "signal_type": kind,
        "severity": severity,
        "occurred_at": (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(),
        "region": "VT09",
        "household": FAMILY,
        "persons": [
            {"bsn": BSNS[0], "role": "parent_or_carer"},
            {"bsn": BSNS[1], "role": "child"},
        ],
    }


def _legacy_receipts(database: Database) -> None:
    """The receipts table as it was before corrections (no household), with one receipt."""
    legacy = MetaData()
    receipts = Table(
        "ingest_receipts",
        legacy,
        Column("event_id", String(36), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("organisation", String(64), nullable=False),
        Column("accepted_at", DateTime(timezone=True), nullable=False),
    )
    engine = database.engine()
    legacy.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(receipts).values(
                event_id=LEGACY_EVENT_ID,
                fingerprint="0" * 64,
                organisation="politie-midden-nederland",
                accepted_at=datetime.now(UTC),
            )
        )
    engine.dispose()


class Publishers:
    def __init__(self, settings: Settings, url: str) -> None:
        authority = TokenAuthority(settings.keys_dir)
        self.url = url
        self.tokens = {
            name: authority.issue(Publisher(f"sys-{name}", name, sector), Audience.INGEST, HOUR)
            for name, sector in (
                ("politie-midden-nederland", Sector.POLICE),
                ("politie-limburg", Sector.POLICE),
                ("obs-de-regenboog", Sector.EDUCATION),
            )
        }
        doctor = Analyst("va-1", "vt-utrecht", AnalystRole.CONFIDENTIAL_DOCTOR, "VT09")  # type: ignore[arg-type]
        self.doctor = authority.issue(doctor, Audience.QUERY, HOUR)

    def post(self, organisation: str, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(
            f"{self.url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.tokens[organisation]}"},
            timeout=30,
        )


def test_corrections_and_retractions_through_the_api(
    settings: Settings, database: Database
) -> None:
    _legacy_receipts(database)
    police, other_police, school = "politie-midden-nederland", "politie-limburg", "obs-de-regenboog"
    zorgmelding = _signal("zorgmelding", 30, "acute")
    absence = _signal("school_absence", 16, "high")
    with running_radar(settings) as radar:
        api = Publishers(radar.settings, radar.ingest_url)

        def timeline() -> dict[str, Any]:
            answer = httpx.post(
                f"{radar.query_url}/v1/households/timeline",
                json={"address": FAMILY, "purpose": "medical_review"},
                headers={"Authorization": f"Bearer {api.doctor}"},
            )
            assert answer.status_code == 200, answer.text
            found: dict[str, Any] = answer.json()
            return found

        assert api.post(police, "/v1/signals", zorgmelding).status_code == 202
        assert api.post(school, "/v1/signals", absence).status_code == 202
        wait_for(lambda: len(timeline()["signals"]) == 2, 30, "two signals")
        household = timeline()["household"]
        engine = database.engine()
        scores = WorklistStore(engine, database.row_sealer(engine))

        def contributions() -> dict[str, dict[str, Any]]:
            found = scores.household_score(household)
            return {} if found is None else {c["signal_id"]: c for c in found["contributions"]}

        wait_for(lambda: len(contributions()) == 2, 30, "a score of both signals")
        score_before = scores.household_score(household)
        assert score_before is not None
        before = _moment()

        correction = {"correction_id": str(uuid.uuid4()), "severity": "low", "reason": REASON}
        path = f"/v1/signals/{zorgmelding['event_id']}/correction"

        # Refused, and nothing changes.
        unknown = api.post(police, f"/v1/signals/{uuid.uuid4()}/correction", correction)
        assert unknown.status_code == 404, unknown.text
        not_theirs = api.post(other_police, path, correction)
        assert not_theirs.status_code == 403, not_theirs.text
        leak = api.post(police, path, {**correction, "reason": "mother is 111222333 not 2"})
        assert leak.status_code == 422, leak.text
        assert [e["field"] for e in leak.json()["errors"]] == ["reason"]
        assert "111222333" not in leak.text
        wrong_sector = api.post(police, path, {**correction, "signal_type": "school_absence"})
        assert wrong_sector.status_code == 403
        assert wrong_sector.json()["errors"][0]["field"] == "signal_type"
        persons = api.post(police, path, {**correction, "persons": []})
        assert persons.status_code == 422 and persons.json()["errors"][0]["field"] == "persons"
        legacy = api.post(police, f"/v1/signals/{LEGACY_EVENT_ID}/correction", correction)
        assert legacy.status_code == 409 and "before corrections" in legacy.json()["detail"]

        # The publisher corrects the severity: once, however often it says so.
        accepted = api.post(police, path, correction)
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["status"] == "accepted"
        again = api.post(police, path, correction)
        assert (again.status_code, again.json()["status"]) == (200, "duplicate")
        reused = api.post(police, path, {**correction, "severity": "moderate"})
        assert reused.status_code == 409 and reused.json()["errors"][0]["field"] == "correction_id"

        def shown(event_id: str) -> dict[str, Any] | None:
            return next((s for s in timeline()["signals"] if s["signal_id"] == event_id), None)

        wait_for(
            lambda: (shown(zorgmelding["event_id"]) or {}).get("severity") == "low",
            30,
            "the corrected severity in the timeline",
        )
        assert shown(zorgmelding["event_id"])["corrected"] is True  # type: ignore[index]
        assert "corrected" not in shown(absence["event_id"])  # type: ignore[operator]
        wait_for(
            lambda: contributions()[zorgmelding["event_id"]]["severity"] == "low",
            30,
            "the score of the corrected signal",
        )
        score_corrected = scores.household_score(household)
        assert score_corrected is not None
        assert float(score_corrected["score"]) < float(score_before["score"]) - 1

        # The school retracts its signal: off the timeline and out of the score.
        retraction = {"correction_id": str(uuid.uuid4()), "reason": "wrong pupil"}
        retract_path = f"/v1/signals/{absence['event_id']}/retraction"
        assert api.post(police, retract_path, retraction).status_code == 403
        assert api.post(school, retract_path, retraction).status_code == 202
        assert api.post(school, retract_path, retraction).json()["status"] == "duplicate"
        late = api.post(
            school,
            f"/v1/signals/{absence['event_id']}/correction",
            {"correction_id": str(uuid.uuid4()), "severity": "low", "reason": "late"},
        )
        assert late.status_code == 409, late.text
        wait_for(lambda: shown(absence["event_id"]) is None, 30, "the retraction in the timeline")
        wait_for(lambda: set(contributions()) == {zorgmelding["event_id"]}, 30, "the new score")
        scores.engine.dispose()

        # Replay before the correction shows what was known then; replay now, what is known now.
        then = service.replay_report(
            radar.settings,
            bootstrap.read_models,
            before,
            Selection(household=household),
            "medical_review",
        )
        [replayed] = then["households"]
        assert {s["signal_id"]: s["severity"] for s in replayed["signals"]} == {
            zorgmelding["event_id"]: "acute",
            absence["event_id"]: "high",
        }
        now = service.replay_report(
            radar.settings,
            bootstrap.read_models,
            _moment(),
            Selection(household=household),
            "medical_review",
        )
        [replayed] = now["households"]
        assert [(s["signal_id"], s["severity"], s["corrected"]) for s in replayed["signals"]] == [
            (zorgmelding["event_id"], "low", True)
        ]


def _moment() -> datetime:
    time.sleep(0.02)
    moment = datetime.now(UTC)
    time.sleep(0.02)
    return moment
