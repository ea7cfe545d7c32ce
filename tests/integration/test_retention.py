"""Retention on an immutable log, on real SQLite and PostgreSQL: per-household encryption at
rest, crypto-shredding of households whose period has ended, the key-encryption key.

After enforcement no endpoint, replay or rebuild shows the erased household, the raw database
holds only ciphertext for it, integrity verification passes, and other households are
untouched. Losing the KEK makes everything unreadable; rotating it re-wraps the data keys
without touching a single event payload.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from privacy.addresses import HomeAddress
from privacy.key_encryption import FileKeyEncryptionKey, UnreadableError
from privacy.retention import RetentionPolicy
from privacy.storage.vault import Identity
from radar.retention import RetentionLog
from services import bootstrap
from services.audit import service
from services.audit.snapshot import Selection
from services.bootstrap import sealer
from services.database import Database
from services.ledger.application import UnknownHouseholdError
from services.ledger.store import event_subject_keys, open_ledger
from services.retention.service import enforce
from services.rights.service import InzageSources, produce
from services.settings import Settings
from services.signals.store import ReceiptBook
from tests.support.audit_helpers import sealing_settings
from tests.support.inspection import assert_read_models_equal_rebuild, database_bytes
from tests.support.radar_fixtures import FAMILY, OTHER_FAMILY, Harness, radar_query_harness, signal

NOW = datetime.now(UTC)
YEARS_AGO = NOW - timedelta(days=3 * 365)
OLD_CHILD, NEW_CHILD = "p.k1." + "a" * 32, "p.k1." + "b" * 32
OLD_BSN = "111222333"  # synthetic, passes the elfproef


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[Harness]:
    yield from radar_query_harness(tmp_path, database)


def _settings(tmp_path: Path, database: Database, topic: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database.url, signals_topic=topic)


def _stored_states(database: Database) -> dict[tuple[str, int], bytes]:
    ledger = open_ledger(database)
    try:
        return {
            (str(n.originator_id), n.originator_version): bytes(n.state)
            for n in ledger.notifications.after(0, limit=100_000)
        }
    finally:
        ledger.close()


def test_an_expired_household_is_erased_everywhere_and_the_log_still_verifies(
    harness: Harness, database: Database, tmp_path: Path, topic: str
) -> None:
    settings = _settings(tmp_path, database, topic)
    keys = bootstrap.pseudonyms(settings).pseudonymiser()
    old_child = keys.person(OLD_BSN)
    old = [  # no alert, so no case: the shorter period applies; received three years ago
        signal("zorgmelding", moment, severity="low", children=(old_child,), received_at=moment)
        for moment in (YEARS_AGO - timedelta(days=30), YEARS_AGO)
    ]
    recent = signal("domestic_incident", NOW - timedelta(days=10), household=OTHER_FAMILY,
                    children=(NEW_CHILD,))  # fmt: skip
    harness.radar.record(*old, recent)
    receipts = ReceiptBook.of(database, database.engine())
    receipts.record((s, "fingerprint") for s in [*old, recent])
    vault = bootstrap.identity_vault(settings)
    home = HomeAddress.normalised("3511 AB", 12)
    vault.deposit([Identity(FAMILY, home, ((old_child, OLD_BSN),))], keys)
    inzage = InzageSources(vault, keys, harness.radar.timelines, harness.log)
    assert vault.household_identity(FAMILY) is not None
    audit = sealing_settings(settings)
    worker = sealer(settings, audit)
    worker.catch_up()
    before = _stored_states(database)
    old_ids = [str(s.event_id) for s in old]

    report = enforce(
        harness.radar.ledger,
        [harness.radar.timelines, harness.radar.worklist, harness.radar.monitoring, receipts],
        vault,
        RetentionPolicy.load(),
        lambda: NOW,
    )
    assert report.checked == 2 and dict(report.expired) == {"signals_without_case": 1}
    assert report.rows_purged >= 4 and report.identities_purged == 2  # 2 rows, 2 receipts
    assert set(receipts.known(s.event_id for s in [*old, recent])) == {recent.event_id}
    assert report.events_erased >= 3  # opened, two signals, and what the domain recorded

    # the raw database holds only ciphertext for it: no signal id, no pseudonym in clear
    raw = database_bytes(database)
    assert all(i.encode() not in raw for i in old_ids)
    assert FAMILY.encode() not in raw and old_child.encode() not in raw
    kept = harness.get(f"/v1/households/{OTHER_FAMILY}/timeline?purpose=triage").json()
    shown = {s["signal_id"] for s in kept["signals"]}
    assert str(recent.event_id) in shown and not shown & set(old_ids), "the other is kept"
    assert str(recent.event_id).encode() not in raw, "kept as a digest and sealed, not in clear"
    # the log kept every record as it was: only the keys are gone
    assert _stored_states(database) == {
        **before,
        **{k: v for k, v in _stored_states(database).items() if k not in before},
    }
    worker.catch_up()
    verified = service.verify_report(settings, use_kafka=True, audit=audit)
    assert verified.intact, verified.faults
    worker.close()

    # no endpoint, replay or rebuild shows it; the other household is untouched
    gone = harness.get(f"/v1/households/{FAMILY}/timeline?purpose=triage")
    assert gone.status_code == 200 and gone.json()["signals"] == []
    kept = harness.get(f"/v1/households/{OTHER_FAMILY}/timeline?purpose=triage")
    assert [s["signal_id"] for s in kept.json()["signals"]] == [str(recent.event_id)]
    assert harness.get(f"/v1/persons/{old_child}/timeline?purpose=triage").json()["signals"] == []
    assert all(e.household != FAMILY for e in harness.radar.timelines.occurred_between())  # exports
    after = produce(inzage, OLD_BSN, "Verzoek betrokkene.", tmp_path / "after", NOW)
    # no signal is held any more; the access log still tells who looked (accountability)
    assert after.document["signals"] == [] and after.document["households"] == []
    with pytest.raises(UnknownHouseholdError):
        harness.radar.ledger.household(FAMILY)
    replayed = service.replay_report(
        settings, bootstrap.read_models, NOW - timedelta(days=365), Selection()
    )
    assert all(i not in json.dumps(replayed, default=str) for i in old_ids)
    assert FAMILY not in json.dumps(replayed, default=str)
    assert vault.household_identity(FAMILY) is None
    assert_read_models_equal_rebuild(database, tmp_path)

    # the enforcement is recorded, with counts and nothing else
    (enforced,) = harness.radar.events(RetentionLog.RetentionEnforced)
    assert enforced.households == {"signals_without_case": 1}
    assert FAMILY not in json.dumps(dataclasses.asdict(enforced), default=str)

    # a new signal about the same home starts afresh, without the erased past
    fresh = signal("zorgmelding", NOW - timedelta(days=1), children=(old_child,))
    assert harness.radar.record(fresh).recorded == 1
    assert [str(f.signal_id) for f in harness.radar.ledger.household(FAMILY).signal_facts()] == [
        str(fresh.event_id)
    ]
    again = harness.get(f"/v1/households/{FAMILY}/timeline?purpose=triage").json()["signals"]
    own = [s["signal_id"] for s in again if not s.get("earlier_address")]
    assert own == [str(fresh.event_id)], "recorded here: only the new signal"
    assert not {s["signal_id"] for s in again} & set(old_ids), "the erased past never returns"


def test_without_the_key_encryption_key_the_event_store_cannot_be_read(
    database: Database, tmp_path: Path
) -> None:
    ledger = open_ledger(database)
    from tests.support.radar_fixtures import Radar

    radar = Radar(database)
    radar.record(signal("zorgmelding", NOW - timedelta(days=2)))
    radar.close()
    ledger.close()
    assert database.keys_dir is not None
    database.kek_path().unlink()  # lost; a new, different KEK file appears on next use
    stranger = open_ledger(database)
    with pytest.raises(UnreadableError):
        stranger.household(FAMILY)
    stranger.close()


def test_rotating_the_kek_rewraps_data_keys_and_touches_no_event(
    database: Database, tmp_path: Path, topic: str
) -> None:
    settings = _settings(tmp_path, database, topic)
    from tests.support.radar_fixtures import Radar

    radar = Radar(database)
    radar.record(signal("zorgmelding", NOW - timedelta(days=2)))
    radar.close()
    bootstrap.identity_vault(settings).deposit(
        [Identity(FAMILY, HomeAddress.normalised("3511 AB", 12), ((OLD_CHILD, OLD_BSN),))],
        bootstrap.pseudonyms(settings).pseudonymiser(),
    )
    before = _stored_states(database)

    assert FileKeyEncryptionKey.rotate(database.kek_path()) == "kek2"
    assert bootstrap.rewrap_data_keys(settings) >= 3  # household, case or model history, vault
    FileKeyEncryptionKey(database.kek_path()).retire("kek1")  # the old KEK is gone for good

    assert _stored_states(database) == before, "no event payload was touched"
    with database.engine().connect() as connection:
        assert set(connection.execute(select(event_subject_keys.c.kek_id)).scalars()) == {"kek2"}
    ledger = open_ledger(database)
    assert len(ledger.household(FAMILY).signal_facts()) == 1
    ledger.close()
    identity = bootstrap.identity_vault(settings).household_identity(FAMILY)
    assert identity is not None and identity.persons == {OLD_CHILD: OLD_BSN}


# --- the expiry stories: an alert alone is not a case ---------------------------------------

LATER = NOW + timedelta(days=800)
SECOND_BSN = "123456782"  # synthetic, passes the elfproef


def _cross_sector_story(harness: Harness, household: str, child: str) -> list[str]:
    """A police zorgmelding and a school's absence report about one child, with their ingest
    receipts: a cross-sector alert for Utrecht. Returns the signal ids."""
    story = [
        signal("zorgmelding", NOW - timedelta(days=30), household=household, children=(child,)),
        signal("school_absence", NOW - timedelta(days=16), household=household,
               children=(child,), severity="moderate"),
    ]  # fmt: skip
    harness.radar.record(*story)
    ReceiptBook.of(harness.radar.database, harness.radar.worklist.engine).record(
        (s, "fingerprint") for s in story
    )
    return [str(s.event_id) for s in story]


def _worklist(harness: Harness) -> dict[str, dict[str, object]]:
    answer = harness.get("/v1/worklist", params={"purpose": "triage"})
    assert answer.status_code == 200, answer.text
    return {a["household"]: a for a in answer.json()["alerts"]}


def _report_counts(report: object) -> tuple[object, ...]:
    fields = ("checked", "expired", "events_erased", "rows_purged", "identities_purged")
    return tuple(getattr(report, f) for f in fields)


def test_an_untouched_alert_expires_with_its_household_and_an_acknowledged_one_is_a_case(
    harness: Harness, database: Database, tmp_path: Path, topic: str
) -> None:
    settings = _settings(tmp_path, database, topic)
    keys = bootstrap.pseudonyms(settings).pseudonymiser()
    untouched_child, worked_child = keys.person(OLD_BSN), keys.person(SECOND_BSN)
    untouched = _cross_sector_story(harness, FAMILY, untouched_child)
    worked = _cross_sector_story(harness, OTHER_FAMILY, worked_child)
    receipts = ReceiptBook.of(database, database.engine())
    vault = bootstrap.identity_vault(settings)
    vault.deposit(
        [
            Identity(FAMILY, HomeAddress.normalised("3511 AB", 12), ((untouched_child, OLD_BSN),)),
            Identity(OTHER_FAMILY, HomeAddress.normalised("3511 AB", 14),
                     ((worked_child, SECOND_BSN),)),
        ],
        keys,
    )  # fmt: skip
    listed = _worklist(harness)
    assert {a["kind"] for a in listed.values()} == {"cross_sector"}
    acknowledged = harness.post(
        f"/v1/alerts/{listed[OTHER_FAMILY]['alert_id']}/acknowledge", {"purpose": "triage"}
    )
    assert acknowledged.status_code == 200, acknowledged.text
    harness.radar.project()

    # shown before it happens: two years after the last signal, less the 16 days gone
    listed = _worklist(harness)
    assert listed[FAMILY]["expires_in_days"] in (713, 714)
    assert "expires_in_days" not in listed[OTHER_FAMILY], "case data: kept as the VT file"
    case = harness.radar.ledger.case(FAMILY)
    assert case is not None and not case.taken_up and case.open_alerts()

    stores = [harness.radar.timelines, harness.radar.worklist, harness.radar.monitoring, receipts]
    policy = RetentionPolicy.load()
    dry = enforce(harness.radar.ledger, stores, vault, policy, lambda: LATER, dry_run=True)
    assert harness.radar.ledger.household(FAMILY), "a dry run changes nothing"
    run = enforce(harness.radar.ledger, stores, vault, policy, lambda: LATER)

    assert _report_counts(dry) == _report_counts(run), "the dry run counts what the run does"
    assert dict(run.expired) == {"signals_without_case": 1}
    assert run.events_erased >= 4 and run.rows_purged >= 5  # timeline 2, alert 1, receipts 2
    assert run.identities_purged == 2, "the household and the child"
    with pytest.raises(UnknownHouseholdError):
        harness.radar.ledger.household(FAMILY)
    harness.radar.project()
    assert set(_worklist(harness)) == {OTHER_FAMILY}, "the untouched alert went with it"
    gone = harness.get(f"/v1/households/{FAMILY}/timeline?purpose=triage").json()
    assert gone["signals"] == []
    kept = harness.get(f"/v1/households/{OTHER_FAMILY}/timeline?purpose=triage").json()
    assert sorted(s["signal_id"] for s in kept["signals"]) == sorted(worked)
    raw = database_bytes(database)
    assert all(i.encode() not in raw for i in untouched)

    # the case is kept twenty years after the acknowledgement, then erased in its turn
    kept_case = harness.radar.ledger.case(OTHER_FAMILY)
    assert kept_case is not None and kept_case.taken_up_at is not None
    twenty_years = kept_case.taken_up_at + timedelta(days=policy.kinds["case_data"].period_days)
    almost = enforce(harness.radar.ledger, stores, vault, policy,
                     lambda: twenty_years - timedelta(days=1))  # fmt: skip
    assert dict(almost.expired) == {}
    dry = enforce(harness.radar.ledger, stores, vault, policy, lambda: twenty_years, True)
    run = enforce(harness.radar.ledger, stores, vault, policy, lambda: twenty_years)
    assert _report_counts(dry) == _report_counts(run)
    assert dict(run.expired) == {"case_data": 1} and run.identities_purged == 2
