"""`radar audit access` as an auditor uses it (issue 22): every entry of the period, found by
subject, actor, purpose, kind and period, each under a category in the auditor's words; a
refusal at authentication shows the claimed subject as unverified; the reading itself is logged
first, with the filters it used. On the real databases, through the query API and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import orjson
import pytest
from typer.testing import CliRunner

from privacy.actors import AnalystRole
from privacy.storage.access_log import EntryKind
from services.audit.cli import audit_cli
from services.database import Database
from tests.support.privacy_fixtures import (
    HOUSEHOLD,
    HOUSEHOLD_ELSEWHERE,
    QueryHarness,
    query_harness,
)

JUSTIFICATION = "Police report acute danger tonight; the children are at the address."


@pytest.fixture
def harness(
    tmp_path: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[QueryHarness]:
    monkeypatch.setenv("RADAR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RADAR_DATABASE_URL", database.url)
    yield from query_harness(tmp_path, database)


def _day_of_work(harness: QueryHarness) -> None:
    """user-1 reads a household and forgets the purpose; user-2 breaks the glass elsewhere;
    someone tries a forged token claiming to be user-forged."""
    client = harness.client

    def bearer(subject: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {harness.token(AnalystRole.TRIAGE, subject=subject)}"}

    timeline = f"/v1/households/{HOUSEHOLD}/timeline"
    assert client.get(timeline, params={"purpose": "triage"}, headers=bearer("user-1")).is_success
    assert client.get(timeline, headers=bearer("user-1")).status_code == 403
    glass = {
        "household": HOUSEHOLD_ELSEWHERE,
        "purpose": "triage",
        "break_glass": True,
        "justification": JUSTIFICATION,
    }
    assert client.post("/v1/households/timeline", json=glass, headers=bearer("user-2")).is_success
    forged = jwt.encode({"sub": "user-forged"}, "k" * 32, algorithm="HS256")
    assert client.get(timeline, headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def _listed(*args: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(audit_cli, ["access", "--json", "--quiet", *args])
    assert result.exit_code == 0, result.output
    entries: list[dict[str, Any]] = orjson.loads(result.stdout)["entries"]
    return entries


def _summary(entries: list[dict[str, Any]]) -> list[tuple[str | None, str, str | None]]:
    return [(e["actor"], e["category"], e["subject"]) for e in entries]


def test_the_filters_find_the_right_entries_in_an_auditors_words(harness: QueryHarness) -> None:
    _day_of_work(harness)
    assert _summary(_listed("--actor", "user-1")) == [
        ("user-1", "toegestaan", HOUSEHOLD),
        ("user-1", "geweigerd: doel niet toegestaan", HOUSEHOLD),
    ]
    assert _summary(_listed("--subject", HOUSEHOLD_ELSEWHERE)) == [
        ("user-2", "break-glass", HOUSEHOLD_ELSEWHERE)
    ]
    assert [e["actor"] for e in _listed("--purpose", "triage", "--kind", "access")] == [
        "user-1",
        "user-2",
    ]
    [refused] = _listed("--kind", "auth_refused")
    assert refused["category"] == "geweigerd: geen geldig token"
    assert (refused["actor"], refused["actor_verified"]) == ("user-forged", False)
    assert refused["reason"] == "unknown signing key" and refused["client"] == "testclient"
    assert _listed("--actor", "user-forged") == [refused]  # found under the name it claimed

    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    before = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert _listed("--since", later) == []
    assert _listed("--until", before) == []
    everything = _listed()
    assert {e["category"] for e in everything} >= {
        "doelregister vastgesteld",
        "toegestaan",
        "geweigerd: doel niet toegestaan",
        "break-glass",
        "geweigerd: geen geldig token",
        "logboek gelezen",
    }


def test_the_text_listing_and_its_own_reading_in_the_log(harness: QueryHarness) -> None:
    _day_of_work(harness)
    before = harness.access_log.count()
    result = CliRunner().invoke(
        audit_cli, ["access", "--quiet", "--actor", "user-forged", "--operator", "E. de Vries"]
    )
    assert result.exit_code == 0, result.output
    [line, findings] = result.stdout.strip().splitlines()
    assert "geweigerd: geen geldig token" in line
    assert "wie: user-forged (niet geverifieerd)" in line and "reden: unknown signing key" in line
    assert "GET /v1/households/hh.k1.***/timeline" in line
    assert findings.startswith("1 entries;") and "rechtmatig" in findings
    [reading] = harness.access_log.entries()[before:]
    assert reading.kind == EntryKind.LOG_ACCESS
    assert reading.payload["command"] == "radar audit access"
    assert reading.payload["filters"] == {
        "actor": "user-forged",
        "subject": None,
        "purpose": None,
        "kind": None,
    }
    assert reading.payload["operator"]["name"] == "E. de Vries"


def test_the_html_report_holds_the_listing(harness: QueryHarness) -> None:
    _day_of_work(harness)
    args = ["access", "--quiet", "--format", "html", "--kind", "auth_refused"]
    result = CliRunner().invoke(audit_cli, args)
    assert result.exit_code == 0, result.output
    assert "Every entry in the period (1)" in result.stdout
    assert "geweigerd: geen geldig token" in result.stdout and "user-forged" in result.stdout


def test_a_disclosure_to_a_recipient_lists_under_the_operator_who_sent_it(
    harness: QueryHarness,
) -> None:
    """`radar export` and `radar statistics export` log their operator by name alone (a string,
    where other entries hold the operator's record): the listing reads both."""
    harness.access_log.append(
        EntryKind.EXPORT,
        {"operator": "E. de Vries", "recipient": "wodc", "legal_basis": "art. 5.2", "records": 12},
    )
    [disclosed] = _listed("--kind", "export")
    assert (disclosed["operator"], disclosed["responsible"], disclosed["category"]) == (
        "E. de Vries",
        "E. de Vries",
        "verstrekt aan externe ontvanger",
    )
    assert _listed("--actor", "E. de Vries")[-1]["seq"] == disclosed["seq"]
