"""NEN 7513: each entry records the user and the responsible user on whose behalf they acted,
from the token's claims, and shows both wherever entries are shown (the access log, the
break-glass queue, the compliance report). On both databases, through the query API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience, TokenAuthority
from services.audit.compliance import check_access
from services.cli import app
from services.database import Database
from tests.support.privacy_fixtures import (
    HOME_REGION,
    HOUSEHOLD,
    HOUSEHOLD_ELSEWHERE,
    QueryHarness,
    query_harness,
)

JUSTIFICATION = "Acute danger reported by police tonight; children in the home."


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[QueryHarness]:
    yield from query_harness(tmp_path, database)


def _token(harness: QueryHarness, subject: str, on_behalf_of: str | None = None) -> str:
    actor = Analyst(subject, "vt-vt09", AnalystRole.TRIAGE, HOME_REGION, on_behalf_of)  # type: ignore[arg-type]
    return harness.authority.issue(actor, Audience.QUERY, timedelta(hours=1))


def test_the_responsible_user_comes_from_the_token_and_is_shown_with_each_entry(
    harness: QueryHarness, database: Database
) -> None:
    secretary = {"Authorization": f"Bearer {_token(harness, 's.secretaresse', 'dr.vertrouwen')}"}
    analyst = {"Authorization": f"Bearer {_token(harness, 'a.jansen')}"}
    own = harness.client.get(
        f"/v1/households/{HOUSEHOLD}/timeline", params={"purpose": "triage"}, headers=analyst
    )
    assert own.status_code == 200
    glass = harness.client.post(
        "/v1/households/timeline",
        json={
            "household": HOUSEHOLD_ELSEWHERE,
            "purpose": "triage",
            "break_glass": True,
            "justification": JUSTIFICATION,
        },
        headers=secretary,
    )
    assert glass.status_code == 200, glass.text

    officer = harness.headers(AnalystRole.PRIVACY_OFFICER)
    shown = harness.client.get(
        "/v1/access-log", params={"purpose": "accountability"}, headers=officer
    ).json()["entries"]
    accesses = [e["payload"] for e in shown if e["kind"] == "access"][:2]
    assert [(a["actor"]["subject"], a["responsible"]) for a in accesses] == [
        ("a.jansen", "a.jansen"),
        ("s.secretaresse", "dr.vertrouwen"),
    ]
    (queued,) = harness.client.get(
        "/v1/break-glass", params={"purpose": "accountability"}, headers=officer
    ).json()["accesses"]
    assert queued["analyst"]["subject"] == "s.secretaresse"
    assert queued["analyst"]["responsible"] == "dr.vertrouwen"
    report = check_access(harness.access_log)
    (used,) = report.break_glass
    assert (used["actor"]["subject"], used["responsible"]) == ("s.secretaresse", "dr.vertrouwen")


def test_a_token_names_the_responsible_user_only_when_minted_so(
    tmp_path: Path, harness: QueryHarness
) -> None:
    env = {"RADAR_DATA_DIR": str(tmp_path / "data")}
    args = ["admin", "token", "analyst", "--subject", "s.secretaresse", "--organisation",
            "vt-utrecht", "--role", "triage", "--region", "VT09"]  # fmt: skip
    minted = CliRunner().invoke(app, [*args, "--on-behalf-of", "dr.vertrouwen"], env=env)
    assert minted.exit_code == 0, minted.output
    authority = TokenAuthority(tmp_path / "data" / "keys")
    actor = authority.verify(minted.stdout.strip(), Audience.QUERY)
    assert isinstance(actor, Analyst) and actor.responsible == "dr.vertrouwen"
    plain = CliRunner().invoke(app, args, env=env)
    actor = authority.verify(plain.stdout.strip(), Audience.QUERY)
    assert isinstance(actor, Analyst) and actor.responsible == "s.secretaresse"
    refused = CliRunner().invoke(app, [*args, "--on-behalf-of", "111222333"], env=env)
    assert refused.exit_code == 2 and "--on-behalf-of" in refused.output
