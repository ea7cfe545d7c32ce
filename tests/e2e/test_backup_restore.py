"""Issue 21, backup and restore, through the real processes, broker and databases: a backup
taken while signals flow restores into a fresh directory and database; `radar audit verify`
passes on the restore against the Kafka checkpoints; the restored timelines are the original's
up to the backup's position; and a restore without the key files refuses to serve, naming them.

The sealer (in the projector) is stopped before the backup is taken under the aggregator's load:
a checkpoint signed after the backup names records the backup does not hold, and verify would
rightly call a store without them truncated (the README says so)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka.admin import KafkaAdminClient

from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience, TokenAuthority
from publisher_sdk import PublisherClient
from services.audit.checkpoint_topic import read_checkpoints
from services.audit.sealing import store_id
from services.backup import service
from services.backup.manifest import BackupError
from services.database import Database
from services.ledger.store import open_ledger
from services.settings import Settings
from testkit.processes import checkpoints_topic, run_radar, running_radar
from testkit.synthetic import SyntheticPopulation
from tests.support.ingest import HOUR, POLICE, bearer_for, family_signal
from tests.support.inspection import timeline_store, wait_for, wait_for_projection

FAMILY = {"postcode": "3511 AB", "house_number": 21}
PARENT, CHILD = "111222333", "123456782"
KEY_FILES = ("kek.json", "lookup-digest.key", "pseudonym-keys.json")
BATCH = 20


def _last_notification(database: Database) -> int:
    ledger = open_ledger(database)
    try:
        return int(ledger.notifications.last_id())
    finally:
        ledger.close()


def _family_timeline(query_url: str, doctor: dict[str, str]) -> list[dict[str, Any]]:
    answer = httpx.post(
        f"{query_url}/v1/households/timeline",
        json={"address": FAMILY, "purpose": "medical_review"},
        headers=doctor,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    signals: list[dict[str, Any]] = answer.json()["signals"]
    return signals


class Load:
    """Publishes batches of signals (the family's among them) until stopped."""

    def __init__(self, client: PublisherClient, population: SyntheticPopulation) -> None:
        self.client, self.population = client, population
        self.households = [population.household() for _ in range(40)]
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def batch(self) -> list[dict[str, Any]]:
        others = [self.population.signal(h, Sector.POLICE) for h in self.households[: BATCH - 1]]
        self.households = self.households[BATCH - 1 :] + self.households[: BATCH - 1]
        return [family_signal("domestic_incident", 3, FAMILY, PARENT, CHILD), *others]

    def publish(self, signals: list[dict[str, Any]]) -> None:
        results = self.client.publish(signals)
        self.failures += [r.status for r in results if r.status != "accepted"]

    def _run(self) -> None:
        for _ in range(30):  # at most 600 signals, over 10 s or more
            if self.stop.is_set():
                return
            self.publish(self.batch())
            self.stop.wait(0.3)


def test_a_backup_under_load_restores_verifies_and_needs_its_keys(
    settings: Settings,
    database: Database,
    empty_database: Database,
    kafka_admin: KafkaAdminClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RADAR_AUDIT_CHECKPOINT_IDLE_SECONDS", "0.2")
    data_backup, key_backup = tmp_path / "backup", tmp_path / "backup-keys"
    restored = settings.model_copy(  # the fresh directory and database a restore goes into
        update={"data_dir": tmp_path / "other-data", "database_url": empty_database.url}
    )
    assert restored.keys_dir == empty_database.keys_dir
    try:
        with running_radar(settings) as radar:
            authority = TokenAuthority(settings.keys_dir)
            doctor_actor = Analyst("va-1", "vt-utrecht", AnalystRole.CONFIDENTIAL_DOCTOR, "VT09")  # type: ignore[arg-type]
            doctor = bearer_for(authority, doctor_actor, Audience.QUERY)
            token = authority.issue(POLICE, Audience.INGEST, HOUR)
            with PublisherClient(radar.ingest_url, token, batch_size=BATCH) as client:
                load = Load(client, SyntheticPopulation(seed=21))
                load.publish(load.batch() + load.batch())
                wait_for(lambda: len(_family_timeline(radar.query_url, doctor)) == 2, 30, "2")
                _wait_for_checkpoint_of_the_end(settings, database)
                radar.processes["projector"].stop()  # no checkpoint signed after the backup

                before = _last_notification(database)
                load.thread.start()
                wait_for(lambda: _last_notification(database) > before, 30, "load recorded")
                created = run_radar(settings, "backup", "create", str(data_backup))
                assert load.thread.is_alive(), "the load ended before the backup did"
                load.stop.set()
                load.thread.join(timeout=60)
            assert created.returncode == 0, created.stdout + created.stderr
            assert load.failures == []
            manifest = json.loads((data_backup / "manifest.json").read_text())
            position = manifest["event_store"]["last_notification_id"]
            assert before < position < _last_notification(database), "not taken under load"
            assert not list(data_backup.glob("*key*")), "no key file in the data backup"
            assert manifest["keys"]["included"] is False
            assert set(manifest["keys"]["fingerprints"]) >= {"lookup-digest.key"}
            keys = run_radar(settings, "backup", "keys", str(key_backup))
            assert keys.returncode == 0, keys.stderr
            assert set(KEY_FILES) <= set(
                json.loads((key_backup / "keys-manifest.json").read_text())["files"]
            )

            # Restored without the keys: it says which, and no serving process starts.
            without = run_radar(restored, "backup", "restore", str(data_backup))
            assert without.returncode == 1, without.stdout + without.stderr
            assert all(f"{name}: missing" in without.stderr for name in KEY_FILES), without.stderr
            serving = run_radar(restored, "query", timeout=60)
            assert serving.returncode == 2, serving.stdout + serving.stderr
            assert "kek.json: missing" in serving.stderr and "lookup-digest.key" in serving.stderr
            with pytest.raises(BackupError, match="only into empty databases"):
                service.restore(restored, data_backup, None)  # what it restored is not replaced

            # With the keys, kept apart, back in place: the restore verifies against Kafka.
            put = run_radar(restored, "backup", "restore-keys", str(key_backup))
            assert put.returncode == 0, put.stdout + put.stderr
            verified = run_radar(restored, "audit", "verify", "--quiet")
            assert verified.returncode == 0, verified.stdout + verified.stderr
            assert "intact (checked against the Kafka topic)" in verified.stdout

            # What the restore shows is what the original held up to the backup's position.
            radar.restart("projector")
            with running_radar(restored, "projector", "query") as copy:
                wait_for_projection(database, 60)
                wait_for_projection(empty_database, 60)
                originals, copies = timeline_store(database), timeline_store(empty_database)
                expected = [e for e in originals.all_entries() if e.position <= position]
                assert copies.all_entries() == expected
                shown = {str(e.signal_id) for e in expected}
                family_then = [
                    s for s in _family_timeline(radar.query_url, doctor) if s["signal_id"] in shown
                ]
                assert _family_timeline(copy.query_url, doctor) == family_then
                originals.engine.dispose()
                copies.engine.dispose()
    finally:
        topics = {settings.signals_topic, checkpoints_topic(settings)}
        kafka_admin.delete_topics(sorted(topics & set(kafka_admin.list_topics())))


def _wait_for_checkpoint_of_the_end(settings: Settings, database: Database) -> None:
    """Until the sealer has published a checkpoint of the store's last record."""
    engine = database.engine()
    store = store_id(engine)
    engine.dispose()

    def sealed_to_the_end() -> bool:
        published = read_checkpoints(settings.kafka_bootstrap, checkpoints_topic(settings), store)
        return bool(published) and published[-1].notification_id == _last_notification(database)

    wait_for(sealed_to_the_end, 30, "a checkpoint of the last record on Kafka")
