"""Re-identification on the pages, and casework on another region's household once opened with
a justification, on a real database: the identity only after a form and a confirmation, one
access-log entry, nothing of it in a URL, title, log line or cache; the grant of a justified
opening carried into each later step, like the API's callers carry theirs; and the safety
assessment form of a report, with the instrument's rules; the lead-time table and the effect
monitor with their definitions, one access-log entry each."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from privacy.addresses import HomeAddress
from privacy.storage.vault import Identity
from services import bootstrap
from services.database import Database
from services.settings import Settings
from tests.integration.test_pages import _story, sign_in
from tests.support.radar_fixtures import FAMILY, Harness, radar_query_harness, signal

PARENT, CHILD = "p.k1." + "a" * 32, "p.k1." + "b" * 32
BSNS = ("111222333", "123456782")  # synthetic: they pass the elfproef
ELSEWHERE = "hh.k1." + "d" * 32  # _story's household in VT13 (Amsterdam-Amstelland)
REASON = "Gezin is verhuisd, melding van politie Amsterdam over de kinderen"


@pytest.fixture
def harness(
    tmp_path: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Harness]:
    monkeypatch.setenv("RADAR_PAGES_DEV_SIGN_IN", "true")
    yield from radar_query_harness(tmp_path, database)


def _deposit(tmp_path: Path, database: Database) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url=database.url)
    keys = bootstrap.pseudonyms(settings).pseudonymiser()
    members = ((PARENT, BSNS[0]), (CHILD, BSNS[1]))
    home = HomeAddress.normalised("3511 AB", 12)
    bootstrap.identity_vault(settings).deposit([Identity(FAMILY, home, members)], keys)


def test_the_identity_shows_only_after_a_confirmation_and_is_logged_once(
    harness: Harness, tmp_path: Path, database: Database, capfd: pytest.CaptureFixture[str]
) -> None:
    _story(harness)
    _deposit(tmp_path, database)
    token = sign_in(harness)
    before = harness.log.count()
    path = f"/pages/households/{FAMILY}/identity"
    form = harness.client.get(path, params={"purpose": "triage"})
    assert form.status_code == 200 and 'id="identity-form"' in form.text
    asked = {"purpose": "triage", "justification": ""}
    refused = harness.client.post(path, data={**asked, "confirmed": "yes"})
    assert refused.status_code == 403 and BSNS[0] not in refused.text, "no CSRF token"
    confirm = harness.client.post(path, data={**asked, "csrf": token})
    assert confirm.status_code == 200 and 'id="identity-warning"' in confirm.text
    assert not any(bsn in confirm.text for bsn in BSNS)
    assert harness.log.count() == before, "nothing read before the confirmation"

    shown = harness.client.post(path, data={**asked, "csrf": token, "confirmed": "yes"})
    assert shown.status_code == 200, shown.text
    assert all(bsn in shown.text for bsn in BSNS) and "3511AB" in shown.text.replace(" ", "")
    assert shown.headers["cache-control"] == "no-store"
    title = re.search(r"<title>(.*)</title>", shown.text)
    assert title is not None and not any(b in title.group(1) for b in BSNS)
    assert "hh." not in title.group(1)
    [entry] = harness.entries_after(before)
    assert (entry["resource"], entry["subject"], entry["outcome"]) == (
        "identity",
        FAMILY,
        "permit",
    )
    logged = capfd.readouterr()
    assert not any(bsn in logged.out + logged.err for bsn in BSNS), "no log line holds a BSN"


def test_a_purpose_that_may_not_re_identify_is_refused_as_a_page(harness: Harness) -> None:
    _story(harness)
    token = sign_in(harness, "monitoring-utrecht")
    before = harness.log.count()
    refused = harness.client.post(
        f"/pages/households/{FAMILY}/identity",
        data={"purpose": "monitoring", "csrf": token, "confirmed": "yes"},
    )
    assert refused.status_code == 403 and BSNS[0] not in refused.text
    [entry] = harness.entries_after(before)
    assert entry["outcome"] == "deny"


def test_another_regions_household_opened_with_a_justification_can_be_worked(
    harness: Harness,
) -> None:
    _story(harness)
    token = sign_in(harness)
    opened = harness.client.post(
        f"/pages/households/{ELSEWHERE}/open",
        data={"purpose": "triage", "justification": REASON, "csrf": token},
    )
    assert opened.status_code == 200 and "/acknowledge" in opened.text, "the forms show"
    [alert] = harness.radar.open_alerts("VT13")
    before = harness.log.count()
    done = harness.client.post(
        f"/pages/alerts/{alert.alert_id}/acknowledge",
        data={"purpose": "triage", "csrf": token},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    harness.radar.project()
    assert harness.radar.worklist.alert(alert.alert_id)["status"] == "acknowledged"
    step = harness.entries_after(before)[0]
    assert (step["outcome"], step["cross_region"], step["justification"]) == (
        "permit",
        True,
        REASON,
    )
    again = harness.client.get(done.headers["location"])
    assert again.status_code == 200 and "/triage" in again.text, "the page after the step"


def test_a_report_is_assessed_with_the_instruments_form(harness: Harness) -> None:
    harness.radar.record(signal("vt_report", datetime.now(UTC) - timedelta(days=2)))
    token = sign_in(harness)
    page = harness.client.get(f"/pages/households/{FAMILY}", params={"purpose": "triage"})
    assert "Is er sprake van acute onveiligheid?" in page.text, "the instrument's questions"
    assert "Verzoek tot onderzoek Raad voor de Kinderbescherming" in page.text, "its decisions"
    assert "acute onveiligheid vraagt om acute urgentie" in page.text, "its rules, in Dutch"
    [report_id] = re.findall(r'name="report_id" value="([^"]+)"', page.text)
    path = f"/pages/households/{FAMILY}/safety-assessments"
    answers = {
        "purpose": "triage",
        "csrf": token,
        "report_id": report_id,
        "acute": "yes",
        "structural": "no",
        "urgency": "regular",
        "decision": "own_investigation",
        "reason": "Politie meldt geweld, kinderen thuis",
    }
    wrong = harness.client.post(path, data=answers)
    assert wrong.status_code == 422 and "urgency" in wrong.text, "acute asks for acute urgency"
    assert "acute onveiligheid vraagt om acute urgentie" in wrong.text, "the rule, in Dutch"
    done = harness.client.post(
        path,
        data={**answers, "urgency": "acute", "expertise": ["child_abuse"]},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    harness.radar.project()
    again = harness.client.get(done.headers["location"])
    assert 'class="assessed"' in again.text
    assert "Beoordeeld: Eigen onderzoek" in again.text, "the decision in Dutch"
    assert 'name="report_id"' not in again.text, "a report is assessed once"


def test_the_lead_time_table_and_the_effect_monitor_show_their_definitions(
    harness: Harness,
) -> None:
    harness.radar.record(signal("vt_report", datetime.now(UTC) - timedelta(days=2)))
    sign_in(harness, "monitoring-utrecht")
    before = harness.log.count()
    table = harness.client.get("/pages/lead-times", params={"purpose": "monitoring"})
    assert table.status_code == 200, table.text
    assert 'id="lead-times"' in table.text and "VT09" in table.text
    assert "Algemene termijnenwet" in table.text, "each figure's definition"
    wrong = harness.client.get(
        "/pages/lead-times",
        params={"purpose": "monitoring", "from": "2026-05-01", "to": "2026-01-01"},
    )
    assert wrong.status_code == 422 and "to" in wrong.text

    chooser = harness.client.get("/pages/effect-monitor")
    assert "programme_monitoring" in chooser.text, "the purpose comes first"
    monitor = harness.client.get(
        "/pages/effect-monitor", params={"purpose": "programme_monitoring"}
    )
    assert monitor.status_code == 200, monitor.text
    assert "Eerste meldingen bij Veilig Thuis" in monitor.text and "Heel Nederland" in monitor.text
    assert "first_vt_reports" not in monitor.text, "the figure's name in Dutch, not its key"
    assert monitor.headers["cache-control"] == "no-store"
    lead, effect = harness.entries_after(before)
    assert (lead["resource"], effect["resource"]) == ("worklist", "effect_monitor")
    assert effect["outcome"] == "permit"

    sign_in(harness, "monitoring-utrecht", locale="en")
    english = harness.client.get(
        "/pages/effect-monitor", params={"purpose": "programme_monitoring"}
    )
    assert "First vt reports" in english.text and "Distinct households" in english.text
    assert "Eerste meldingen" not in english.text, "the English locale shows English"
