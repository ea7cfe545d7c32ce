"""Invariant 4 for auditors, through the real processes on the real broker and databases:
what the query API showed at moments T1, T2 and T3 is exactly what `radar audit replay
--as-of` gives for those moments after many more signals arrived. Meanwhile the projector's
sealer signs checkpoints onto Kafka, the untouched log verifies, every access was lawful, and
the live read models are never touched by an audit."""

from __future__ import annotations

import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole, Publisher
from privacy.credentials import Audience, TokenAuthority
from services import bootstrap
from services.audit import service
from services.audit.checkpoint_topic import read_checkpoints
from services.audit.sealing import store_id
from services.audit.snapshot import Selection
from services.database import Database
from services.ledger.store import open_ledger
from services.settings import Settings
from services.timelines.store import TimelineStore
from testkit.processes import checkpoints_topic, run_radar, running_radar
from testkit.synthetic import SyntheticPopulation, sector_of
from tests.support.inspection import wait_for

HOUR = timedelta(hours=1)
FAMILY = {"postcode": "3511 AB", "house_number": 12}
FAMILY_BSNS = ("111222333", "123456782")
DATETIME_FIELDS = ("occurred_at", "reported_at")


def _signal(kind: str, days_ago: int) -> dict[str, Any]:
    return {
        "event_id": str(uuid.uuid4()),
        "signal_type": kind,
        "severity": "high",
        "occurred_at": (datetime.now(UTC) - timedelta(days=days_ago)).isoformat(),
        "region": "VT09",
        "household": FAMILY,
        "persons": [
            {"bsn": FAMILY_BSNS[0], "role": "parent_or_carer"},
            {"bsn": FAMILY_BSNS[1], "role": "child"},
        ],
    }


def _comparable(signals: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Signals with their moments parsed: the API and the report spell UTC differently."""
    return [
        {k: datetime.fromisoformat(v) if k in DATETIME_FIELDS else v for k, v in s.items()}
        for s in signals
    ]


class Scenario:
    def __init__(self, settings: Settings, ingest: str, query: str) -> None:
        authority = TokenAuthority(settings.keys_dir)
        self.ingest, self.query = ingest, query
        self.publishers = {
            sector: authority.issue(
                Publisher(f"sys-{sector}", f"org-{sector}".replace("_", "-"), sector),
                Audience.INGEST,
                HOUR,
            )
            for sector in Sector
        }
        doctor = Analyst("va-1", "vt-utrecht", AnalystRole.CONFIDENTIAL_DOCTOR, "VT09")  # type: ignore[arg-type]
        auditor = Analyst("auditor-1", "adr-audit", AnalystRole.AUDITOR, "VT09")  # type: ignore[arg-type]
        self.doctor = {"Authorization": f"Bearer {authority.issue(doctor, Audience.QUERY, HOUR)}"}
        self.auditor = {"Authorization": f"Bearer {authority.issue(auditor, Audience.QUERY, HOUR)}"}

    def publish(self, signals: list[dict[str, Any]]) -> None:
        by_sector: dict[Sector, list[dict[str, Any]]] = {}
        for s in signals:
            by_sector.setdefault(sector_of(s["signal_type"]), []).append(s)
        for sector, batch in by_sector.items():
            answer = httpx.post(
                f"{self.ingest}/v1/signals/batch",
                json={"signals": batch},
                headers={"Authorization": f"Bearer {self.publishers[sector]}"},
                timeout=30,
            )
            assert answer.status_code == 200 and answer.json()["accepted"] == len(batch), (
                answer.text
            )

    def timeline(self) -> dict[str, Any]:
        answer = httpx.post(
            f"{self.query}/v1/households/timeline",
            json={"address": FAMILY, "purpose": "medical_review"},
            headers=self.doctor,
        )
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def capture(self, count: int) -> tuple[datetime, dict[str, Any]]:
        """What the analyst sees once `count` signals show; the moment right after."""
        wait_for(lambda: len(self.timeline()["signals"]) == count, 30, f"{count} signals")
        seen = self.timeline()
        time.sleep(0.01)
        return datetime.now(UTC), seen


def _replay_cli(
    settings: Settings, moment: datetime, household: str, output: Path
) -> dict[str, Any]:
    done = run_radar(
        settings,
        *("audit", "replay", "--as-of", moment.isoformat(), "--household", household),
        *("--purpose", "medical_review", "--output", str(output), "--quiet"),
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = orjson.loads(output.read_bytes())
    return found


def _audit_cli(settings: Settings, *arguments: str) -> subprocess.CompletedProcess[str]:
    return run_radar(settings, "audit", *arguments, "--quiet")


def test_replay_as_of_gives_what_the_query_api_showed_then(
    settings: Settings, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RADAR_AUDIT_CHECKPOINTS_TOPIC", checkpoints_topic(settings))
    monkeypatch.setenv("RADAR_AUDIT_CHECKPOINT_IDLE_SECONDS", "0.2")
    population = SyntheticPopulation(seed=6)
    with running_radar(settings) as radar:
        scenario = Scenario(radar.settings, radar.ingest_url, radar.query_url)
        scenario.publish([_signal("zorgmelding", 40), _signal("school_absence", 30)])
        t1, seen1 = scenario.capture(2)
        scenario.publish([_signal("kindcheck_concern", 20), _signal("domestic_incident", 50)])
        t2, seen2 = scenario.capture(4)
        scenario.publish([_signal("behavioural_concern", 10)])
        t3, seen3 = scenario.capture(5)
        household = seen3["household"]
        households = [population.household() for _ in range(60)]
        others = [population.signal(h) for h in households for _ in range(3)]
        scenario.publish([*others, _signal("zorgmelding", 1), _signal("school_absence", 2)])
        scenario.capture(7)

        engine = database.engine()
        live = TimelineStore(engine, database.row_sealer(engine))
        wait_for(lambda: len(live.all_entries()) == 7 + len(others), 60, "every signal projected")
        ledger = open_ledger(database)
        last_record = ledger.notifications.last_id()
        ledger.close()
        before = live.all_entries(), live.position()

        # T1 through the command line, T2 through the audit API, T3 in process.
        by_cli = _replay_cli(radar.settings, t1, household, tmp_path / "replay.json")
        assert [h["household"] for h in by_cli["households"]] == [household]
        assert _comparable(by_cli["households"][0]["signals"]) == _comparable(seen1["signals"])
        in_process = service.replay_report(
            radar.settings,
            bootstrap.read_models,
            t3,
            Selection(household=household),
            "medical_review",
        )
        in_process = orjson.loads(orjson.dumps(in_process))
        assert _comparable(in_process["households"][0]["signals"]) == _comparable(seen3["signals"])

        by_api = httpx.get(
            f"{radar.query_url}/v1/audit/replay",
            params={
                "purpose": "audit",
                "as_of": t2.isoformat(),
                "household": household,
                "view_purpose": "medical_review",
            },
            headers=scenario.auditor,
            timeout=120,
        )
        assert by_api.status_code == 200, by_api.text
        assert _comparable(by_api.json()["households"][0]["signals"]) == _comparable(
            seen2["signals"]
        )
        refused = httpx.get(
            f"{radar.query_url}/v1/audit/replay",
            params={"purpose": "audit", "as_of": t2.isoformat()},
            headers=scenario.doctor,
        )
        assert refused.status_code == 403

        # The audit touched nothing live and left no scratch database behind.
        assert (live.all_entries(), live.position()) == before
        assert not list(service.audit_dir(radar.settings).rglob("*.db"))
        live.engine.dispose()

        # The projector's sealer signed checkpoints up to the last record and published them.
        engine = database.engine()
        store = store_id(engine)
        engine.dispose()
        topic = checkpoints_topic(settings)
        key = service.checkpoint_public_key(radar.settings, None)

        def sealed_to_the_end() -> bool:
            published = read_checkpoints(settings.kafka_bootstrap, topic, store)
            return bool(published) and published[-1].notification_id == last_record

        wait_for(sealed_to_the_end, 30, "a checkpoint of the last record on Kafka")
        published = read_checkpoints(settings.kafka_bootstrap, topic, store)
        assert all(c.signed_by(key) for c in published)
        assert [c.seq for c in published] == list(range(1, len(published) + 1))

        verified = _audit_cli(radar.settings, "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        verdict, cannot_see = verified.stdout.strip().splitlines()[-2:]
        assert verdict == "intact (checked against the Kafka topic)"
        assert "after it" in cannot_see  # what even the Kafka copy cannot cover is said

        checked = service.access_report(radar.settings, t1 - HOUR, None)
        assert checked.lawful and checked.unlawful == []
        assert checked.accesses_checked >= 10
