"""Access compliance on a real database: every access re-decided under the purpose register in
force when it happened. An access lawful under version 1 stays lawful after version 2 narrowed
the purpose; break-glass uses come with their review state, accesses across regions are listed;
a forged entry is caught, whether it breaks the chain or is chained in properly."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from privacy.actors import AnalystRole
from privacy.purposes import PERSON_FIELDS, PurposeRegister
from privacy.storage.access_log import EntryKind, access_log, entry_hash
from services.audit import service
from services.audit.cli import audit_cli
from services.audit.compliance import log_entries, redecide
from services.database import Database
from services.settings import Settings
from tests.support.privacy_fixtures import (
    HOME_REGION,
    HOUSEHOLD,
    HOUSEHOLD_ELSEWHERE,
    QueryHarness,
    query_harness,
)

JUSTIFICATION = "Police report acute danger tonight; the children are at the address."


@pytest.fixture
def harness(tmp_path: Path, sqlite_database: Database) -> Iterator[QueryHarness]:
    yield from query_harness(tmp_path, sqlite_database)


@pytest.fixture
def settings(tmp_path: Path, sqlite_database: Database) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=sqlite_database.url)


def _narrowed(register: PurposeRegister) -> PurposeRegister:
    """The next version: triage is no longer a role of the triage purpose, and sees no persons
    (nor, then, a person's roles, age or unborn child)."""
    values = orjson.loads(register.canonical_json())
    values["version"] = register.version + 1
    values["purposes"]["triage"]["roles"] = ["confidential_doctor"]
    fields = values["purposes"]["triage"]["fields"]
    fields[:] = [f for f in fields if f != "persons" and f not in PERSON_FIELDS]
    return PurposeRegister.model_validate(values)


def _accesses_under_version_1(harness: QueryHarness) -> dict[str, int]:
    """A day's work: normal, across regions, two break-glass uses (one reviewed), a refusal."""
    client, triage = harness.client, harness.headers(AnalystRole.TRIAGE, HOME_REGION)
    own = client.get(
        f"/v1/households/{HOUSEHOLD}/timeline", params={"purpose": "triage"}, headers=triage
    )
    assert own.status_code == 200 and "persons" in own.json()["fields"]
    across = client.post(
        "/v1/households/timeline",
        json={
            "household": HOUSEHOLD_ELSEWHERE,
            "purpose": "triage",
            "justification": JUSTIFICATION,
        },
        headers=triage,
    )
    assert across.json()["access"] == "cross_region"
    glass = {
        "household": HOUSEHOLD_ELSEWHERE,
        "purpose": "triage",
        "break_glass": True,
        "justification": JUSTIFICATION,
    }
    for _ in range(2):
        opened = client.post("/v1/households/timeline", json=glass, headers=triage)
        assert opened.json()["access"] == "break_glass"
    officer = harness.headers(AnalystRole.PRIVACY_OFFICER)
    queue = client.get("/v1/break-glass", params={"purpose": "accountability"}, headers=officer)
    first = queue.json()["accesses"][0]["access_seq"]
    review = {"purpose": "accountability", "outcome": "justified", "note": "Police confirmed."}
    assert (
        client.post(f"/v1/break-glass/{first}/review", json=review, headers=officer).status_code
        == 200
    )
    refused = client.get(f"/v1/households/{HOUSEHOLD}/timeline", headers=triage)
    assert refused.status_code == 403
    entries = harness.access_log.entries()
    return {
        "own": next(
            e.seq
            for e in entries
            if e.payload.get("subject") == HOUSEHOLD and e.payload["outcome"] == "permit"
        ),
        "refused": entries[-1].seq,
        "reviewed": first,
    }


def test_access_lawful_under_one_version_stays_lawful_after_the_next_narrowed_it(
    harness: QueryHarness, settings: Settings
) -> None:
    seqs = _accesses_under_version_1(harness)
    version_1 = harness.access_log.latest_register()
    assert version_1 is not None
    shipped = version_1.payload["version"]
    version_2 = _narrowed(PurposeRegister.model_validate(version_1.payload["register"]))
    harness.access_log.adopt_register(version_2)

    own = next(e for e in harness.access_log.entries() if e.seq == seqs["own"])
    assert not redecide(own, version_2).permitted  # judged by today's rules it would be unlawful

    report = service.access_report(settings, None, None)
    assert report.lawful and report.unlawful == [] and report.integrity == []
    assert [r["version"] for r in report.registers] == [shipped, shipped + 1]
    assert report.accesses_checked >= 7
    assert [b["review"]["state"] for b in report.break_glass] == ["justified", "open"]
    assert report.break_glass[0]["seq"] == seqs["reviewed"]
    assert [(c["subject"], c["subject_region"]) for c in report.cross_region] == [
        (HOUSEHOLD_ELSEWHERE, "VT13")
    ]

    auditor = harness.headers(AnalystRole.AUDITOR)
    by_api = harness.client.get("/v1/audit/access", params={"purpose": "audit"}, headers=auditor)
    assert by_api.status_code == 200 and by_api.json()["lawful"] is True
    triage = harness.headers(AnalystRole.TRIAGE)
    assert (
        harness.client.get(
            "/v1/audit/access", params={"purpose": "audit"}, headers=triage
        ).status_code
        == 403
    )
    assert harness.client.get(
        "/v1/audit/verify", params={"purpose": "audit", "kafka": False}, headers=auditor
    ).json()["intact"]


def test_forged_entries_are_caught(
    harness: QueryHarness, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seqs = _accesses_under_version_1(harness)
    engine = harness.access_log.engine

    # Chained in properly at the head: the chain holds, the re-decision does not.
    head = harness.access_log.entries()[-1]
    payload = {
        **head.payload,
        "actor": {**head.payload["actor"], "role": "triage"},
        "resource": "audit_replay",
        "purpose": "audit",
        "outcome": "permit",
        "subject": None,
        "subject_region": None,
        "break_glass": False,
        "cross_region": False,
    }
    text = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()
    moment = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            access_log.insert().values(
                seq=head.seq + 1,
                recorded_at=moment,
                kind=str(EntryKind.ACCESS),
                payload=text,
                prev_hash=head.entry_hash,
                entry_hash=entry_hash(
                    head.seq + 1, moment, str(EntryKind.ACCESS), text, head.entry_hash
                ),
            )
        )
    report = service.access_report(settings, None, None)
    assert report.integrity == []
    (unlawful,) = report.unlawful
    assert unlawful["seq"] == head.seq + 1 and "may not use purpose 'audit'" in unlawful["finding"]

    # A refusal rewritten into a permit: the chain breaks exactly there.
    with engine.begin() as connection:
        stored = connection.execute(
            select(access_log.c.payload).where(access_log.c.seq == seqs["refused"])
        ).scalar_one()
        connection.execute(
            update(access_log)
            .where(access_log.c.seq == seqs["refused"])
            .values(payload=stored.replace('"outcome":"deny"', '"outcome":"permit"'))
        )
    report = service.access_report(settings, None, None)
    assert [(f.at, f.detail) for f in report.integrity] == [(seqs["refused"], "content changed")]
    assert {u["seq"] for u in report.unlawful} == {seqs["refused"], head.seq + 1}

    monkeypatch.setenv("RADAR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RADAR_DATABASE_URL", settings.resolved_database_url)
    result = CliRunner().invoke(audit_cli, ["access", "--format", "html", "--quiet"])
    assert result.exit_code == 1
    assert "Break-glass uses (2)" in result.stdout and "content changed" in result.stdout
    # the CLI wrote only its own reading of the log, at the head of the (broken) chain
    *_, forged, reading = log_entries(harness.access_log)
    assert forged.seq == head.seq + 1 and reading.kind == EntryKind.LOG_ACCESS


def test_every_reading_of_the_logs_on_the_command_line_is_logged_before_it_reads(
    harness: QueryHarness, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _accesses_under_version_1(harness)
    monkeypatch.setenv("RADAR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RADAR_DATABASE_URL", settings.resolved_database_url)
    before = harness.access_log.count()
    runner, since = CliRunner(), "2026-01-01T00:00:00+00:00"
    window = ["--from", since, "--quiet", "--operator", "E. de Vries"]
    listed = runner.invoke(audit_cli, ["access", "--json", *window])
    assert listed.exit_code == 0, listed.output
    verified = runner.invoke(audit_cli, ["verify", "--no-kafka", "--quiet", "--role",
                                         "privacy_officer"])  # fmt: skip
    assert verified.exit_code == 0 and "intact" in verified.stdout, verified.output
    replayed = runner.invoke(
        audit_cli, ["replay", "--as-of", datetime.now(UTC).isoformat(), "--household", HOUSEHOLD]
    )
    assert replayed.exit_code == 0, replayed.output

    readings = [e for e in harness.access_log.entries()[before:]]
    assert [e.kind for e in readings] == [EntryKind.LOG_ACCESS] * 3
    access, verify, replay = (e.payload for e in readings)
    assert access["command"] == "radar audit access" and access["read"] == ["access_log"]
    assert access["operator"] == {"os_user": getpass.getuser(), "name": "E. de Vries",
                                  "role": "auditor", "responsible": "E. de Vries"}  # fmt: skip
    assert (access["since"], access["until"]) == (since, None)
    assert verify["operator"]["role"] == "privacy_officer" and "checkpoints" in verify["read"]
    assert replay["household"] == HOUSEHOLD and replay["as_of"] is not None
    # logged first: the access report already lists its own reading, and verify, which walked
    # a chain holding its own entry, found it intact
    assert [r["seq"] for r in orjson.loads(listed.stdout)["log_accesses"]] == [readings[0].seq]
    assert service.verify_report(settings, use_kafka=False).intact


def test_an_operator_name_holding_an_identifier_is_refused_and_nothing_is_read(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, harness: QueryHarness
) -> None:
    monkeypatch.setenv("RADAR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RADAR_DATABASE_URL", settings.resolved_database_url)
    before = harness.access_log.count()
    result = CliRunner().invoke(audit_cli, ["access", "--quiet", "--operator", "111222333"])
    assert result.exit_code == 2 and "111222333" not in result.output
    assert harness.access_log.count() == before
