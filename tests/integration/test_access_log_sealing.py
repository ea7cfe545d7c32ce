"""The access log keeps no pseudonym in clear (issue 24 item 5, NEN 7513 log): entries and
notices store subjects as lookup digests and seal the pseudonyms under the period's key; the
chain still verifies after the key is destroyed; entries and notices written the old way still
read and verify. On both databases, through the real query API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from sqlalchemy import insert, select

from privacy.actors import AnalystRole
from privacy.storage.access_log import (
    GENESIS_HASH,
    EntryKind,
    access_log,
    access_notices,
    entry_hash,
)
from privacy.storage.access_log_sealing import period_of
from services.database import Database
from tests.support.privacy_fixtures import (
    HOME_REGION,
    HOUSEHOLD,
    HOUSEHOLD_ELSEWHERE,
    OTHER_REGION,
    QueryHarness,
    query_harness,
)

JUSTIFICATION = "Family moved here last week; earlier reports are in their region."


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[QueryHarness]:
    yield from query_harness(tmp_path, database)


def _open_elsewhere(harness: QueryHarness) -> None:
    answer = harness.client.post(
        "/v1/households/timeline",
        json={
            "household": HOUSEHOLD_ELSEWHERE,
            "purpose": "triage",
            "justification": JUSTIFICATION,
        },
        headers=harness.headers(AnalystRole.TRIAGE, HOME_REGION),
    )
    assert answer.status_code == 200, answer.text


def _stored_text(harness: QueryHarness) -> str:
    """Every stored column of the log and its notices, as the database hands them back."""
    with harness.access_log.engine.connect() as connection:
        rows = [
            *connection.execute(select(access_log)).all(),
            *connection.execute(select(access_notices)).all(),
        ]
    return "\n".join(repr(tuple(row)) for row in rows)


def test_no_pseudonym_is_stored_in_clear_yet_the_log_shows_whom_it_was_about(
    harness: QueryHarness, database: Database
) -> None:
    _open_elsewhere(harness)
    own = harness.client.get(
        f"/v1/households/{HOUSEHOLD}/timeline",
        params={"purpose": "triage"},
        headers=harness.headers(AnalystRole.TRIAGE, HOME_REGION),
    )
    assert own.status_code == 200
    stored = _stored_text(harness)
    for pseudonym in (HOUSEHOLD, HOUSEHOLD_ELSEWHERE):
        assert pseudonym.rsplit(".", 1)[1] not in stored
    assert JUSTIFICATION not in stored  # free text about the household is sealed too

    shown = harness.client.get(
        "/v1/access-log",
        params={"purpose": "accountability"},
        headers=harness.headers(AnalystRole.PRIVACY_OFFICER),
    ).json()["entries"]
    subjects = [e["payload"].get("subject") for e in shown if e["kind"] == "access"]
    assert subjects[:2] == [HOUSEHOLD_ELSEWHERE, HOUSEHOLD]
    notices = harness.client.get(
        "/v1/notices",
        params={"purpose": "triage"},
        headers=harness.headers(AnalystRole.TRIAGE, OTHER_REGION),
    ).json()["notices"]
    assert [n["household"] for n in notices] == [HOUSEHOLD_ELSEWHERE]
    # inzage's "who looked at me": found by digest
    about = harness.access_log.about([HOUSEHOLD_ELSEWHERE])
    assert [e.payload["justification"] for e in about] == [JUSTIFICATION]
    assert harness.access_log.verify() == []


def test_destroying_the_period_key_leaves_the_subjects_unreadable_and_the_chain_intact(
    harness: QueryHarness,
) -> None:
    _open_elsewhere(harness)
    log = harness.access_log
    assert log.sealing is not None
    period = period_of(datetime.now(UTC))
    assert log.sealing.destroy([period]) == 1
    fresh = type(log)(log.engine, log.sealing)  # no key in memory any more
    assert fresh.verify() == []
    (entry,) = [e for e in fresh.entries() if e.kind == EntryKind.ACCESS]
    assert not entry.readable and entry.payload["subject"] is None
    assert entry.payload["justification"] is None and entry.payload["outcome"] == "permit"
    assert fresh.notices(OTHER_REGION) == []


def test_entries_and_notices_written_the_old_way_still_read_and_verify(
    tmp_path: Path, database: Database
) -> None:
    """A log written before format 2 (pseudonyms in the payload, no period) goes on: its entries
    read and verify as they did, new entries chain onto them, notices are sealed in place."""
    engine = database.engine()
    earlier = database.access_log(engine)  # creates the tables (format 2 columns included)
    moment = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)
    payload = orjson.dumps(
        {
            "subject": HOUSEHOLD,
            "justification": JUSTIFICATION,
            "outcome": "permit",
            "purpose": "triage",
        },
        option=orjson.OPT_SORT_KEYS,
    ).decode()
    old_hash = entry_hash(1, moment, "access", payload, GENESIS_HASH)
    with engine.begin() as connection:
        connection.execute(
            insert(access_log).values(
                seq=1,
                recorded_at=moment,
                kind="access",
                payload=payload,
                prev_hash=GENESIS_HASH,
                entry_hash=old_hash,
            )
        )
        connection.execute(
            insert(access_notices).values(
                access_seq=1,
                region=OTHER_REGION,
                household=HOUSEHOLD,
                recorded_at=moment,
                kind="cross_region",
                accessor_organisation="vt-vt09",
                accessor_region=HOME_REGION,
                purpose="triage",
            )
        )
    log = database.access_log(engine)  # opening migrates the old notice in place
    with engine.connect() as connection:
        (stored,) = connection.execute(select(access_notices.c.household)).scalars()
    assert HOUSEHOLD.rsplit(".", 1)[1] not in stored
    assert [n["household"] for n in log.notices(OTHER_REGION)] == [HOUSEHOLD]

    log.append(EntryKind.ACCESS, {"subject": HOUSEHOLD, "outcome": "deny", "purpose": "triage"})
    assert log.verify() == []
    old, new = log.entries()
    assert old.payload["subject"] == HOUSEHOLD and old.payload["justification"] == JUSTIFICATION
    assert old.entry_hash == old_hash and new.prev_hash == old_hash
    assert [e.seq for e in log.about([HOUSEHOLD])] == [1, 2]
    with engine.begin() as connection:  # the old entry's payload is still covered by the chain
        connection.execute(
            access_log.update()
            .where(access_log.c.seq == 1)
            .values(payload=payload.replace("permit", "deny!"))
        )
    assert [f.problem for f in earlier.verify()] == ["content changed"]
    engine.dispose()
