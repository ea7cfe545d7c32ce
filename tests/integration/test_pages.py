"""The pages on the query service, on a real database: sign-in with a CSRF-guarded form and a
strict session cookie, a purpose before anything is shown, the worklist and the household page
(chart and explanation) through the gate with one access-log entry each, the casework forms
refused without their token, another region's household behind a justification, sign-out."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.database import Database
from tests.support.radar_fixtures import (
    FAMILY,
    OTHER_FAMILY,
    Harness,
    radar_query_harness,
    signal,
)

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@pytest.fixture
def harness(
    tmp_path: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Harness]:
    monkeypatch.setenv("RADAR_PAGES_DEV_SIGN_IN", "true")
    yield from radar_query_harness(tmp_path, database)


def sign_in(harness: Harness, user: str = "triage-utrecht", locale: str = "nl") -> str:
    """Signs in as a development user; returns the session's CSRF token."""
    form = harness.client.get("/pages/sign-in")
    [token] = CSRF.findall(form.text)
    answer = harness.client.post(
        "/pages/sign-in",
        data={"user": user, "locale": locale, "csrf": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    [session_token] = CSRF.findall(harness.client.get("/pages/worklist").text)
    return session_token


def _story(harness: Harness) -> None:
    harness.radar.record(
        signal("huisverbod", ago(10)),
        signal("zorgmelding", ago(30), household=OTHER_FAMILY),
        signal("school_absence", ago(20), household=OTHER_FAMILY, severity="moderate"),
        signal("huisverbod", ago(4), household="hh.k1." + "d" * 32, region="VT13"),
    )


def test_sign_in_needs_the_forms_token_and_nothing_shows_before_a_purpose(
    harness: Harness,
) -> None:
    _story(harness)
    refused = harness.client.post(
        "/pages/sign-in", data={"user": "triage-utrecht"}, follow_redirects=False
    )
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert harness.client.get("/pages/worklist", follow_redirects=False).status_code == 303
    sign_in(harness)
    before = harness.log.count()
    chooser = harness.client.get("/pages/worklist")
    assert "Kies een doel" in chooser.text and FAMILY not in chooser.text
    assert harness.log.count() == before, "choosing a purpose reads nothing about anyone"


def test_worklist_and_household_pages_go_through_the_gate_once_each(
    harness: Harness, capfd: pytest.CaptureFixture[str]
) -> None:
    _story(harness)
    sign_in(harness)
    before = harness.log.count()
    worklist = harness.client.get("/pages/worklist", params={"purpose": "triage"})
    assert worklist.status_code == 200
    assert FAMILY in worklist.text and OTHER_FAMILY in worklist.text
    assert "hh.k1." + "d" * 32 not in worklist.text, "another region's alerts are not listed"
    assert worklist.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in worklist.headers["content-security-policy"]
    [entry] = harness.entries_after(before)
    assert (entry["resource"], entry["outcome"]) == ("worklist", "permit")

    page = harness.client.get(f"/pages/households/{FAMILY}", params={"purpose": "triage"})
    assert page.status_code == 200, page.text
    assert '<svg id="risk-chart"' in page.text and 'class="marker"' in page.text
    assert 'id="explanation"' in page.text and "huisverbod" in page.text
    title = re.search(r"<title>(.*)</title>", page.text)
    assert title is not None and "hh." not in title.group(1)
    [household] = harness.entries_after(before + 1)
    assert (household["resource"], household["subject"]) == ("household_timeline", FAMILY)
    logged = capfd.readouterr()
    # the radar's own lines (the test's HTTP client logs its URLs too, when another test in
    # this worker turned its logging on: those are the browser's side, not the service's)
    lines = [
        line
        for line in (logged.out + logged.err).splitlines()
        if "path" in line and "HTTP Request:" not in line and "/pages/" in line
    ]
    assert any("/pages/households/hh.k1.***" in line for line in lines), "the page's line"
    assert not [line for line in lines if FAMILY in line], "no log line names the household"


def test_casework_forms_are_refused_without_their_token_and_done_with_it(
    harness: Harness,
) -> None:
    _story(harness)
    token = sign_in(harness)
    [alert] = [a for a in harness.radar.open_alerts("VT09") if a.household == FAMILY]
    path = f"/pages/alerts/{alert.alert_id}/triage"
    form = {"purpose": "triage", "outcome": "monitor", "reason": "Politie en school zien samen"}
    assert harness.client.post(path, data=form, follow_redirects=False).status_code == 403
    assert harness.radar.worklist.alert(alert.alert_id)["status"] == "raised"

    acknowledge = f"/pages/alerts/{alert.alert_id}/acknowledge"
    taken = {"purpose": "triage", "csrf": token}
    assert harness.client.post(acknowledge, data=taken, follow_redirects=False).status_code == 303
    harness.radar.project()
    done = harness.client.post(path, data={**form, "csrf": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith(
        f"/pages/households/{FAMILY}?purpose=triage"
    )
    harness.radar.project()
    assert harness.radar.worklist.alert(alert.alert_id)["status"] == "triaged"

    conditions = {"purpose": "triage", "conditions": "Geen geweld thuis", "csrf": token}
    answer = harness.client.post(
        f"/pages/households/{FAMILY}/conditions",
        data={**conditions, "excluded": "huisverbod"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    harness.radar.project()
    page = harness.client.get(f"/pages/households/{FAMILY}", params={"purpose": "triage"})
    assert "Geen geweld thuis" in page.text and "band-conditions" in page.text


def test_another_regions_household_asks_for_a_justification_first(harness: Harness) -> None:
    _story(harness)
    token = sign_in(harness)
    elsewhere = "hh.k1." + "d" * 32
    before = harness.log.count()
    asked = harness.client.get(f"/pages/households/{elsewhere}", params={"purpose": "triage"})
    assert asked.status_code == 403 and 'name="justification"' in asked.text
    assert "huisverbod" not in asked.text
    opened = harness.client.post(
        f"/pages/households/{elsewhere}/open",
        data={
            "purpose": "triage",
            "justification": "Gezin is verhuisd, melding van politie Amsterdam over kinderen",
            "csrf": token,
        },
    )
    assert opened.status_code == 200 and "huisverbod" in opened.text
    denied, permitted = harness.entries_after(before)
    assert denied["outcome"] == "deny" and permitted["cross_region"] is True


def test_sign_out_ends_the_session(harness: Harness) -> None:
    token = sign_in(harness)
    assert (
        harness.client.post(
            "/pages/sign-out", data={"csrf": token}, follow_redirects=False
        ).status_code
        == 303
    )
    assert harness.client.get("/pages/worklist", follow_redirects=False).status_code == 303


def test_a_move_recorded_in_the_page_hands_the_household_to_its_new_region(
    harness: Harness,
) -> None:
    _story(harness)
    token = sign_in(harness)
    moved = harness.client.post(
        f"/pages/households/{FAMILY}/move",
        data={
            "purpose": "triage",
            "municipality": "Amsterdam",
            "moved_on": ago(1).date().isoformat(),
            "csrf": token,
        },
        follow_redirects=False,
    )
    assert (
        moved.status_code == 303 and moved.headers["location"] == "/pages/worklist?purpose=triage"
    )
    harness.radar.project()
    assert harness.radar.worklist.household_region(FAMILY) == "VT13"
    again = harness.client.get(f"/pages/households/{FAMILY}", params={"purpose": "triage"})
    assert again.status_code == 403 and 'name="justification"' in again.text
