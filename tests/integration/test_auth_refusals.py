"""Refusals at authentication leave a trace (issue 22): every kind of bad token on a query
endpoint is a 401 and one access-log entry naming why, from where, and whom the token claimed
(unverified); a flood is logged bounded, with a count of what was not logged one by one. On the
real databases, through the query API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience, TokenAuthority, token_id
from privacy.storage.access_log import EntryKind, LogEntry, access_log
from privacy.storage.access_log_refusals import PER_WINDOW, AuthRefusal, AuthRefusalLog
from privacy.storage.revocations import RevocationList
from services import bootstrap
from services.database import Database
from services.settings import Settings
from tests.support.privacy_fixtures import HOME_REGION, HOUSEHOLD, QueryHarness, query_harness

TIMELINE = f"/v1/households/{HOUSEHOLD}/timeline"
MASKED = "GET /v1/households/hh.k1.***/timeline"


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[QueryHarness]:
    yield from query_harness(tmp_path, database)


def _analyst(subject: str) -> Analyst:
    return Analyst(subject, "vt-vt09", AnalystRole.TRIAGE, HOME_REGION)  # type: ignore[arg-type]


def _bad_tokens(harness: QueryHarness, tmp_path: Path) -> dict[str, tuple[str | None, str]]:
    """Each kind of bad token: its Authorization header and the reason the log must name."""
    issue = harness.authority.issue
    valid = issue(_analyst("user-valid"), Audience.QUERY, timedelta(hours=1))
    header, _claims, signature = valid.split(".")
    other_claims = jwt.encode({"sub": "user-forged"}, "k" * 32, algorithm="HS256").split(".")[1]
    stranger = TokenAuthority(tmp_path / "stranger-keys")
    revoked = issue(_analyst("user-revoked"), Audience.QUERY, timedelta(hours=1))
    RevocationList(harness.access_log.engine).revoke(token_id(revoked), "laptop stolen")
    unsigned = jwt.encode(
        jwt.decode(valid, options={"verify_signature": False}) | {"sub": "user-none"},
        None,
        algorithm="none",
        headers={"kid": jwt.get_unverified_header(valid)["kid"]},
    )
    return {
        "missing": (None, "missing bearer token"),
        "malformed": ("Bearer not-a-token", "invalid token: DecodeError"),
        "forged": (f"Bearer {header}.{other_claims}.{signature}", "bad signature"),
        "unknown key": (
            f"Bearer {stranger.issue(_analyst('user-x'), Audience.QUERY, timedelta(hours=1))}",
            "unknown signing key",
        ),
        "alg=none": (f"Bearer {unsigned}", "invalid token: InvalidAlgorithmError"),
        "expired": (
            f"Bearer {issue(_analyst('user-late'), Audience.QUERY, -timedelta(minutes=5))}",
            "token expired",
        ),
        "revoked": (f"Bearer {revoked}", "token revoked"),
        "other audience": (
            f"Bearer {issue(_analyst('user-ingest'), Audience.INGEST, timedelta(hours=1))}",
            "token is for another audience",
        ),
    }


def _refusals(harness: QueryHarness, before: int) -> list[LogEntry]:
    return [
        e
        for e in harness.access_log.entries()[before:]
        if e.kind in (EntryKind.AUTH_REFUSED, EntryKind.AUTH_REFUSED_SUPPRESSED)
    ]


def test_each_kind_of_bad_token_is_a_401_and_one_entry_naming_why(
    harness: QueryHarness, tmp_path: Path
) -> None:
    claimed = {
        "forged": "user-forged",
        "unknown key": "user-x",
        "alg=none": "user-none",
        "expired": "user-late",
        "revoked": "user-revoked",
        "other audience": "user-ingest",
    }
    for name, (authorization, reason) in _bad_tokens(harness, tmp_path).items():
        before = harness.access_log.count()
        headers = {} if authorization is None else {"Authorization": authorization}
        answer = harness.client.get(TIMELINE, params={"purpose": "triage"}, headers=headers)
        assert answer.status_code == 401, name
        [entry] = _refusals(harness, before)
        assert entry.kind == EntryKind.AUTH_REFUSED, name
        assert entry.payload == {
            "endpoint": MASKED,
            "reason": reason,
            "client": "testclient",
            "claimed_subject": claimed.get(name),
            "subject_verified": False,
            "outcome": "deny",
        }, name
    # a valid token is not refused, and no pseudonym is stored in clear by the refusals
    ok = harness.client.get(
        TIMELINE, params={"purpose": "triage"}, headers=harness.headers(AnalystRole.TRIAGE)
    )
    assert ok.status_code == 200
    with harness.access_log.engine.connect() as connection:
        stored = connection.execute(select(access_log.c.payload)).scalars().all()
    assert not any(HOUSEHOLD in text for text in stored)


def test_a_forged_token_cannot_write_an_identifier_or_pseudonym_into_the_log(
    harness: QueryHarness,
) -> None:
    sneaky = jwt.encode({"sub": f"999999990 {HOUSEHOLD}"}, "k" * 32, algorithm="HS256")
    before = harness.access_log.count()
    answer = harness.client.get(TIMELINE, headers={"Authorization": f"Bearer {sneaky}"})
    assert answer.status_code == 401
    [entry] = _refusals(harness, before)
    assert "999999990" not in str(entry.payload) and HOUSEHOLD not in str(entry.payload)
    assert entry.payload["claimed_subject"].endswith("hh.k1.***")


def test_a_flood_of_bad_requests_leaves_a_bounded_number_of_entries_and_a_count(
    tmp_path: Path, database: Database
) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database.url)
    engine = database.engine()
    log = database.access_log(engine)
    with TestClient(bootstrap.query_app(settings)) as client:
        before = log.count()  # the register adoption
        statuses = {
            client.get(TIMELINE, headers={"Authorization": "Bearer junk"}).status_code
            for _ in range(500)
        }
        expired = TokenAuthority(settings.keys_dir).issue(
            _analyst("user-late"), Audience.QUERY, -timedelta(minutes=5)
        )
        other = client.get(TIMELINE, headers={"Authorization": f"Bearer {expired}"})
    assert statuses == {401} and other.status_code == 401
    written = log.entries()[before:]  # the summary is written when the API stops
    refused = [e for e in written if e.kind == EntryKind.AUTH_REFUSED]
    [summary] = [e for e in written if e.kind == EntryKind.AUTH_REFUSED_SUPPRESSED]
    junk = [e for e in refused if e.payload["reason"] == "invalid token: DecodeError"]
    assert len(junk) == PER_WINDOW  # bounded per client and reason ...
    assert [e.payload["reason"] for e in refused if e not in junk] == ["token expired"]
    assert summary.payload["suppressed"] == 500 - PER_WINDOW  # ... and counted
    assert summary.payload["reason"] == "invalid token: DecodeError"
    assert summary.payload["client"] == "testclient"
    assert len(written) == PER_WINDOW + 2
    assert log.verify() == []
    engine.dispose()


def test_a_minute_later_the_summary_is_written_and_the_client_is_logged_again(
    database: Database,
) -> None:
    engine = database.engine()
    log = database.access_log(engine)
    now = [datetime(2026, 12, 1, 13, 0, tzinfo=UTC)]
    refusals = AuthRefusalLog(log, per_window=2, clock=lambda: now[0])
    probe = AuthRefusal("GET /v1/worklist", "token expired", "203.0.113.7", "user-late")
    written = [refusals.record(probe) for _ in range(5)]
    elsewhere = refusals.record(
        AuthRefusal("GET /v1/worklist", "token expired", "198.51.100.2", None)
    )
    assert written == [True, True, False, False, False] and elsewhere
    assert [e.kind for e in log.entries()] == [EntryKind.AUTH_REFUSED] * 3
    now[0] += timedelta(minutes=1)
    assert refusals.record(probe)  # a new window: logged again, after the old one's summary
    *_, summary, again = log.entries()
    assert summary.kind == EntryKind.AUTH_REFUSED_SUPPRESSED
    assert (summary.payload["client"], summary.payload["suppressed"]) == ("203.0.113.7", 3)
    assert summary.payload["window_end"] == "2026-12-01T13:01:00+00:00"
    assert again.kind == EntryKind.AUTH_REFUSED
    assert refusals.flush() == 0  # nothing suppressed since
    engine.dispose()
