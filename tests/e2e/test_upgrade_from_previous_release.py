"""Issue 21, the upgrade test: a store made by the previous release (commit e4fd62e, stop 14:
tests/fixtures/release-stop14, made by its make_fixture.sh with that code) is refused by this
release until `radar db upgrade` migrates it; then it serves the same timelines, scores,
worklists, monitoring, notices and restrictions, the access log still lists (and verifies) the
entries written before the upgrade, and `radar audit verify` passes against the checkpoints the
old release exported. A second upgrade changes nothing and says so.

Each answer of the old release (expected.json) must be a subset of this release's answer to
the same question by the same analyst: new fields are allowed, nothing else may differ, except
what decays with the clock (tests/support/upgrade.py says which and why).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

from services.backup.postgres_copy import restore
from services.database import Database
from services.settings import Settings
from testkit.processes import RadarProcess, RadarSystem, free_port, run_radar, running_radar
from tests.support.inspection import wait_for
from tests.support.upgrade import differences, explanation_adds_up, since_the_release

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "release-stop14"
OPERATOR = "upgrade-test"
MIGRATE = "radar db upgrade"
REFUSAL_SECONDS = 60
# Before the 730-day retention of signals nobody took up, and before the safety plan's check
# date (730 days after): past it the radar rightly answers otherwise.
SHELF_LIFE = timedelta(days=700)
ALREADY_CURRENT = re.compile(r"already|up to date|nothing to (do|upgrade|migrate)|no-op", re.I)


def _old_store(database: Database, settings: Settings, tmp_path: Path) -> tuple[Settings, Path]:
    """The fixture of the database's kind copied in: its keys into the data dir, its SQLite
    files or its dump restored into the test's empty database; and its checkpoints file."""
    kind = "sqlite" if database.is_sqlite else "postgresql"
    fixture = FIXTURES / kind
    keys = settings.keys_dir
    shutil.copytree(fixture / "keys", keys, dirs_exist_ok=True)
    keys.chmod(0o700)  # as the radar keeps them; git keeps neither mode
    for key in keys.iterdir():
        key.chmod(0o600)
    checkpoints = tmp_path / "checkpoints.jsonl"
    shutil.copy(fixture / "checkpoints.jsonl", checkpoints)
    if database.is_sqlite:
        shutil.copy(fixture / "radar.db", str(make_url(database.url).database))
        shutil.copy(fixture / "vault.db", settings.data_dir / "vault.db")
        return settings, checkpoints
    restore(database.url, fixture / "radar.pgdump")
    # the old release kept the vault in the same PostgreSQL database
    return settings.model_copy(update={"vault_url": database.url}), checkpoints


def _expected(database: Database) -> dict[str, Any]:
    kind = "sqlite" if database.is_sqlite else "postgresql"
    found: dict[str, Any] = json.loads((FIXTURES / kind / "expected.json").read_text())
    return found


def _output(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"


def _assert_refused(settings: Settings) -> None:
    """The query API, started on the unmigrated store, exits non-zero naming the command."""
    ported = settings.model_copy(update={"query_port": free_port()})
    query = RadarProcess("query", ported).start()
    try:
        assert query.process is not None
        status = query.process.wait(timeout=REFUSAL_SECONDS)
    except subprocess.TimeoutExpired:
        query.stop()
        raise AssertionError(f"the query API started on the old store:\n{query.tail()}") from None
    assert status != 0, f"the query API ended well on the old store:\n{query.tail()}"
    assert MIGRATE in query.tail(), f"the refusal does not say `{MIGRATE}`:\n{query.tail()}"


def _tokens(radar: RadarSystem, analysts: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """A token of this release for each analyst of the fixture (the fixture's signing key)."""
    headers = {}
    for name, who in analysts.items():
        minted = run_radar(
            radar.settings,
            *("admin", "token", "analyst", "--subject", who["subject"]),
            *("--organisation", who["organisation"], "--role", who["role"]),
            *("--region", who["region"]),
        )
        assert minted.returncode == 0, _output(minted)
        headers[name] = {"Authorization": f"Bearer {minted.stdout.strip().splitlines()[-1]}"}
    return headers


def _ask(radar: RadarSystem, asked: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
    url = f"{radar.query_url}{asked['path']}"
    return httpx.get(url, params=asked["params"], headers=headers, timeout=30)


def _wait_until_projected(
    radar: RadarSystem, expected: dict[str, Any], tokens: dict[str, dict[str, str]]
) -> None:
    """The read models (rebuilt or migrated) have reached the old store's last event: the
    worklist and monitoring reads wait for it with `after`, the timelines are polled."""
    last = expected["audit_verify"]["report"]["event_store"]["sealed_up_to"]
    for path, purpose, who in (
        ("/v1/worklist", "triage", "triage"),
        ("/v1/monitoring", "monitoring", "monitoring"),
    ):
        params = {"purpose": purpose, "after": last}

        def reached(path: str = path, params: dict[str, Any] = params, who: str = who) -> bool:
            answer = httpx.get(
                f"{radar.query_url}{path}", params=params, headers=tokens[who], timeout=30
            )
            return answer.status_code == 200

        wait_for(reached, 120, f"{path} at the old store's position {last}")
    for key, asked in expected["answers"].items():
        if key.startswith("timeline") and asked["status"] == 200:
            shown = len(asked["body"]["signals"])

            def complete(asked: dict[str, Any] = asked, shown: int = shown) -> bool:
                answer = _ask(radar, asked, tokens[asked["as"]])
                return answer.status_code == 200 and len(answer.json()["signals"]) >= shown

            wait_for(complete, 120, f"{key}: its {shown} signals")


def _assert_same_answers(
    radar: RadarSystem, expected: dict[str, Any], tokens: dict[str, dict[str, str]]
) -> None:
    made_at = datetime.fromisoformat(expected["made_by"]["made_at"])
    days = (datetime.now(UTC) - made_at).total_seconds() / 86400
    found: list[str] = []
    for key, asked in since_the_release(expected["answers"]).items():
        answer = _ask(radar, asked, tokens[asked["as"]])
        if answer.status_code != asked["status"]:
            found.append(f"{key}: {asked['status']} before, now {answer.status_code}")
            continue
        body = answer.json()
        found += [f"{key}: {line}" for line in differences(asked["body"], body, days=days)]
        for alert in [body, *body.get("alerts", [])] if asked["status"] == 200 else []:
            if not explanation_adds_up(alert):
                found.append(f"{key}: the explanation does not add up to the score now")
    assert not found, "answers that changed with the upgrade:\n" + "\n".join(found)


def _assert_access_log_kept(settings: Settings, old: dict[str, Any]) -> None:
    """`radar audit access` lists every entry of before the upgrade as it did, the period's
    compliance check still finds every access lawful and the log undamaged (exit 0)."""
    listed = run_radar(settings, "audit", "access", "--json", "--quiet", "--operator", OPERATOR)
    assert listed.returncode == 0, _output(listed)
    new = json.loads(listed.stdout)
    found: list[str] = []
    for part in ("entries", "cross_region", "break_glass", "exports", "log_accesses"):
        now = {item["seq"]: item for item in new[part]}
        for item in old[part]:
            if item["seq"] not in now:
                found.append(f"{part}: entry {item['seq']} gone")
                continue
            found += [f"{part}: {line}" for line in differences(item, now[item["seq"]])]
    adopted = {(r["version"], r["fingerprint"]) for r in new["registers"]}
    found += [f"register {r['version']} gone" for r in old["registers"]
              if (r["version"], r["fingerprint"]) not in adopted]  # fmt: skip
    assert not found, "the access log changed with the upgrade:\n" + "\n".join(found)
    assert new["lawful"] is True and new["unlawful"] == [] and new["integrity"] == []
    assert new["accesses_checked"] >= old["accesses_checked"]


def _assert_verifies(settings: Settings, checkpoints: Path, old: dict[str, Any]) -> None:
    """`radar audit verify` against the checkpoints the old release exported: intact, every
    old checkpoint matched, every old event and access-log entry still there."""
    done = run_radar(
        settings,
        *("audit", "verify", "--checkpoints-file", str(checkpoints)),
        *("--format", "json", "--quiet", "--operator", OPERATOR),
    )
    assert done.returncode == 0, _output(done)
    report = json.loads(done.stdout)
    assert report["intact"] is True and report["faults"] == [], report
    was, now = old["report"]["event_store"], report["event_store"]
    assert now["checkpoints_in_copy"] == was["checkpoints_in_copy"], report
    assert now["records"] >= was["records"], report
    assert report["access_log"]["entries"] >= old["report"]["access_log"]["entries"], report


def test_a_store_of_the_previous_release_is_refused_then_upgraded_and_answers_as_before(
    database: Database, settings: Settings, tmp_path: Path
) -> None:
    expected = _expected(database)
    assert expected["made_by"]["commit"].startswith("e4fd62e")
    made_at = datetime.fromisoformat(expected["made_by"]["made_at"])
    assert datetime.now(UTC) - made_at < SHELF_LIFE, (
        "the fixture's households are near their retention period and check date: make it "
        "again (tests/fixtures/README.md, release-stop14)"
    )
    settings, checkpoints = _old_store(database, settings, tmp_path)

    _assert_refused(settings)
    before = run_radar(settings, "db", "current")
    assert MIGRATE in before.stdout + before.stderr, _output(before)

    upgraded = run_radar(settings, "db", "upgrade")
    assert upgraded.returncode == 0, _output(upgraded)
    current = run_radar(settings, "db", "current")
    assert current.returncode == 0, _output(current)
    again = run_radar(settings, "db", "upgrade")
    assert again.returncode == 0, _output(again)
    assert ALREADY_CURRENT.search(again.stdout + again.stderr), _output(again)
    still = run_radar(settings, "db", "current")
    assert still.stdout == current.stdout, "the second upgrade changed the revision"

    with running_radar(settings, "projector", "query") as radar:
        tokens = _tokens(radar, expected["analysts"])
        _wait_until_projected(radar, expected, tokens)
        _assert_same_answers(radar, expected, tokens)
    _assert_access_log_kept(settings, expected["audit_access"])
    _assert_verifies(settings, checkpoints, expected["audit_verify"])
