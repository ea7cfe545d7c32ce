"""`GET /v1/feeds/{kind}` on a real database: the caller's organisation's items in cursor order,
paged with `after=`/`limit=` and `next_after`/`more`, every item once when a reader pages from
the start; another organisation's items never; an unknown kind 404 naming the kinds; a bad
`after` 422; one access-log entry per read, with its purpose."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.database import Database
from tests.support.feed_table import KIND, PURPOSE
from tests.support.feeds import FeedHarness, feed_harness

OURS, THEIRS = "huisartsen-utrecht", "politie-midden-nederland"


@pytest.fixture
def harness(tmp_path: Path, database: Database) -> Iterator[FeedHarness]:
    with feed_harness(tmp_path, database, None) as made:
        yield made


def _read(harness: FeedHarness, organisation: str = OURS, **params: Any) -> Any:
    return harness.client.get(
        f"/v1/feeds/{KIND}",
        params={"purpose": PURPOSE, **params},
        headers=harness.headers(organisation),
    )


def test_paging_from_the_start_gives_every_item_once_in_order(harness: FeedHarness) -> None:
    ours = harness.fill(OURS, THEIRS, 7)
    seen: list[str] = []
    after = 0
    pages = 0
    while True:
        page = _read(harness, after=after, limit=3)
        assert page.status_code == 200, page.text
        body = page.json()
        seen += [item["id"] for item in body["items"]]
        cursors = [item["cursor"] for item in body["items"]]
        assert cursors == sorted(cursors) and all(c > after for c in cursors)
        pages += 1
        if not body["more"]:
            break
        assert body["next_after"] == cursors[-1]
        after = body["next_after"]
    assert seen == ours
    assert pages == 3  # 3 + 3 + 1
    again = _read(harness, after=0, limit=500).json()
    assert [item["id"] for item in again["items"]] == ours  # the same ids on every read


def test_an_organisation_never_sees_another_organisations_items(harness: FeedHarness) -> None:
    harness.fill(OURS, THEIRS, 3)
    theirs = _read(harness, THEIRS).json()["items"]
    assert [item["body"] for item in theirs] == [{"status": "theirs"}] * 3
    nobody = _read(harness, "gemeente-zeist").json()
    assert nobody["items"] == [] and nobody["more"] is False and nobody["next_after"] == 0
    last = _read(harness).json()["next_after"]
    past_the_end = _read(harness, after=last).json()
    assert past_the_end == {"kind": KIND, "items": [], "next_after": last, "more": False}


def test_an_unknown_kind_is_404_naming_the_kinds(harness: FeedHarness) -> None:
    answer = harness.client.get(
        "/v1/feeds/gossip", params={"purpose": PURPOSE}, headers=harness.headers(OURS)
    )
    assert answer.status_code == 404
    assert KIND in answer.json()["detail"]


def test_a_bad_after_is_422_naming_the_field(harness: FeedHarness) -> None:
    before = harness.log.count()
    for after in ("-1", "soon", "1.5"):
        answer = _read(harness, after=after)
        assert answer.status_code == 422
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "after" in answer.text
    assert harness.log.count() == before  # refused before anything was read


def test_each_read_is_one_access_log_entry_with_its_purpose(harness: FeedHarness) -> None:
    harness.fill(OURS, THEIRS, 2)
    before = len(harness.log.entries())
    _read(harness)
    _read(harness, after=10**9)
    refused = harness.client.get(
        f"/v1/feeds/{KIND}", params={"purpose": "triage"}, headers=harness.headers(OURS)
    )
    assert refused.status_code == 403
    entries = [e.payload for e in harness.log.entries()[before:]]
    assert [(e["purpose"], e["outcome"], e["records"]) for e in entries] == [
        (PURPOSE, "permit", 2),
        (PURPOSE, "permit", 0),
        ("triage", "deny", 0),
    ]
    assert {e["resource"] for e in entries} == {"signal_feedback"}
    assert {e["actor"]["organisation"] for e in entries} == {OURS}
