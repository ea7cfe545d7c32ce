"""Issue 21, backup and restore, through the real processes, broker and databases: a backup
taken while signals flow restores into a fresh directory and database; the restored timelines
are the original's up to the backup's position; a restore without the key files refuses to
serve, naming them; and the restore begins a new audit epoch the checkpoint chain records.

The lost radar goes on signing checkpoints after the backup, and the restored one records the
same Kafka signals again and signs checkpoints of its own on the same checkpoints topic:
`radar audit verify` against that topic (and against an auditor's exported copy) passes on the
restore, with a line naming the lost radar's checkpoints the restore does not hold. A backup
copied in by hand (no restore recorded) is still reported as truncated."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka.admin import KafkaAdminClient
from sqlalchemy import text

from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience, TokenAuthority
from publisher_sdk import PublisherClient
from services.audit.checkpoint_topic import read_checkpoints
from services.audit.checkpoints import Checkpoint
from services.audit.sealing import store_id
from services.backup import postgres_copy, service, sqlite_copy
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


def test_a_backup_under_load_restores_as_a_new_audit_epoch_and_needs_its_keys(
    settings: Settings,
    database: Database,
    empty_database: Database,
    kafka_admin: KafkaAdminClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RADAR_AUDIT_CHECKPOINT_IDLE_SECONDS", "0.2")
    data_backup, key_backup = tmp_path / "backup", tmp_path / "backup-keys"
    auditors_copy = tmp_path / "auditor" / "checkpoints.jsonl"
    auditors_copy.parent.mkdir()
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

                before = _last_notification(database)
                load.thread.start()
                wait_for(lambda: _last_notification(database) > before, 30, "load recorded")
                created = run_radar(settings, "backup", "create", str(data_backup))
                assert load.thread.is_alive(), "the load ended before the backup did"
                assert created.returncode == 0, created.stdout + created.stderr
                manifest = json.loads((data_backup / "manifest.json").read_text())
                position = manifest["event_store"]["last_notification_id"]
                # The radar to be lost goes on signing checkpoints after the backup.
                wait_for(
                    lambda: _newest_published(settings, database).notification_id > position,
                    30,
                    "a checkpoint signed after the backup",
                )
                load.stop.set()
                load.thread.join(timeout=60)
            assert load.failures == []
            assert before < position < _last_notification(database), "not taken under load"
            assert not list(data_backup.glob("*key*")), "no key file in the data backup"
            assert manifest["keys"]["included"] is False
            assert set(manifest["keys"]["fingerprints"]) >= {"lookup-digest.key"}
            keys = run_radar(settings, "backup", "keys", str(key_backup))
            assert keys.returncode == 0, keys.stderr
            assert set(KEY_FILES) <= set(
                json.loads((key_backup / "keys-manifest.json").read_text())["files"]
            )
            _wait_for_checkpoint_of_the_end(settings, database)
            wait_for_projection(database, 60)
            family_then = _family_timeline(radar.query_url, doctor)
            # The auditor's own copy of the checkpoints, exported before the loss.
            exported = run_radar(settings, "audit", "checkpoints", "export", str(auditors_copy))
            assert exported.returncode == 0, exported.stdout + exported.stderr
        lost_store, lost_newest = _store(database), _newest_published(settings, database)
        originals = timeline_store(database)
        expected = [e for e in originals.all_entries() if e.position <= position]
        originals.engine.dispose()

        # Copied in by hand, no restore recorded: the lost radar's later checkpoints make it
        # a truncated store, as before.
        _copy_in_by_hand(data_backup, empty_database)
        put = run_radar(restored, "backup", "restore-keys", str(key_backup))
        assert put.returncode == 0, put.stdout + put.stderr
        by_hand = run_radar(restored, "audit", "verify", "--quiet")
        assert by_hand.returncode == 1, by_hand.stdout + by_hand.stderr
        assert f"truncated: the store ends at notification {position}" in by_hand.stdout
        assert "RESTORE" not in by_hand.stdout
        _empty(empty_database, restored)

        # Restored without the keys: it says which, and no serving process starts.
        without = run_radar(restored, "backup", "restore", str(data_backup))
        assert without.returncode == 1, without.stdout + without.stderr
        assert all(f"{name}: missing" in without.stderr for name in KEY_FILES), without.stderr
        serving = run_radar(restored, "query", timeout=60)
        assert serving.returncode == 2, serving.stdout + serving.stderr
        assert "kek.json: missing" in serving.stderr and "lookup-digest.key" in serving.stderr
        with pytest.raises(BackupError, match="only into empty databases"):
            service.restore(restored, data_backup, None)  # what it restored is not replaced

        # With the keys, kept apart, back in place, the restore is signed as a new epoch and
        # verifies against Kafka before the restored radar starts.
        put = run_radar(restored, "backup", "restore-keys", str(key_backup))
        assert put.returncode == 0, put.stdout + put.stderr
        new_store = _store(empty_database)
        assert new_store != lost_store
        report = _verified(restored)
        (restore,) = report["restores"]
        assert (restore["parent_store"], restore["notification_id"]) == (lost_store, position)
        seq = manifest["databases"]["radar"]["audit_checkpoints"]["seq"]
        assert restore["checkpoint_seq"] == seq
        assert restore["lost_checkpoints"] == list(range(seq + 1, lost_newest.seq + 1))
        assert f"the lost radar's checkpoints {seq + 1}..{lost_newest.seq}" in restore["notice"]

        # The restored radar records the signals after the backup again, and new ones, and
        # signs its own checkpoints on the same topic: still no fault, there or in the copy.
        with running_radar(restored, "projector", "query") as copy:
            wait_for_projection(empty_database, 60)
            copies = timeline_store(empty_database)
            assert copies.all_entries() == expected
            copies.engine.dispose()
            shown = {str(e.signal_id) for e in expected}
            assert _family_timeline(copy.query_url, doctor) == [
                s for s in family_then if s["signal_id"] in shown
            ]
            copy.start("aggregator", "ingest")
            token = authority.issue(POLICE, Audience.INGEST, HOUR)
            with PublisherClient(copy.ingest_url, token, batch_size=BATCH) as client:
                new = client.publish([family_signal("domestic_incident", 3, FAMILY, PARENT, CHILD)])
            assert [r.status for r in new] == ["accepted"]
            wait_for(
                lambda: len(_family_timeline(copy.query_url, doctor)) == len(family_then) + 1,
                60,
                "the restored radar records the signals after the backup and a new one",
            )
            _wait_for_checkpoint_of_the_end(restored, empty_database)
        again = _verified(restored)
        assert again["restores"][0]["lost_checkpoints"] == restore["lost_checkpoints"]
        assert again["event_store"]["last_checkpoint"]["seq"] > seq + 1
        exported = run_radar(restored, "audit", "checkpoints", "export", str(auditors_copy))
        assert exported.returncode == 0, exported.stdout + exported.stderr
        from_copy = run_radar(
            restored, "audit", "verify", "--quiet", "--checkpoints-file", str(auditors_copy)
        )
        assert from_copy.returncode == 0, from_copy.stdout + from_copy.stderr
        assert f"RESTORE restored on {restore['restored_at']} from store {lost_store}" in (
            from_copy.stdout
        )
    finally:
        topics = {settings.signals_topic, checkpoints_topic(settings)}
        kafka_admin.delete_topics(sorted(topics & set(kafka_admin.list_topics())))


def _verified(settings: Settings) -> dict[str, Any]:
    """`radar audit verify` against the Kafka topic, which must pass; its JSON report."""
    done = run_radar(settings, "audit", "verify", "--quiet")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "intact (checked against the Kafka topic)" in done.stdout
    assert "RESTORE restored on" in done.stdout and "changed" not in done.stdout
    as_json = run_radar(settings, "audit", "verify", "--quiet", "--format", "json")
    assert as_json.returncode == 0, as_json.stdout + as_json.stderr
    report: dict[str, Any] = json.loads(as_json.stdout)
    assert report["faults"] == []
    return report


def _store(database: Database) -> str:
    engine = database.engine()
    try:
        return store_id(engine)
    finally:
        engine.dispose()


def _newest_published(settings: Settings, database: Database) -> Checkpoint:
    """The newest checkpoint of the database's store on the Kafka topic."""
    published = read_checkpoints(
        settings.kafka_bootstrap, checkpoints_topic(settings), _store(database)
    )
    assert published, "no checkpoint on Kafka yet"
    return max(published, key=lambda c: c.seq)


def _copy_in_by_hand(backup: Path, target: Database) -> None:
    """The database files put back as an operator would without `radar backup restore`."""
    if target.is_sqlite:
        sqlite_copy.copy_in(backup / "radar.db", target.sqlite_path())
    else:
        postgres_copy.restore(target.url, backup / "radar.pgdump")


def _empty(database: Database, settings: Settings) -> None:
    """Back to an empty database, vault file and keys directory, for the next restore."""
    shutil.rmtree(settings.keys_dir)
    files = [Database(settings.resolved_vault_url, settings.keys_dir).sqlite_path()]
    for path in [*files, *([database.sqlite_path()] if database.is_sqlite else [])]:
        for suffix in ("", *sqlite_copy.SIDE_FILES):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    if database.is_sqlite:
        return
    engine = database.unchecked_engine()
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def _wait_for_checkpoint_of_the_end(settings: Settings, database: Database) -> None:
    """Until the sealer has published a checkpoint of the store's last record."""
    store = _store(database)

    def sealed_to_the_end() -> bool:
        published = read_checkpoints(settings.kafka_bootstrap, checkpoints_topic(settings), store)
        return bool(published) and published[-1].notification_id == _last_notification(database)

    wait_for(sealed_to_the_end, 30, "a checkpoint of the last record on Kafka")
