"""The pages' sessions and their settings: an idle session ends, sign-out ends it at once, a
CSRF token compares only to itself, the score series steps at each signal, and the
development sign-in cannot start with production settings."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from privacy.actors import Analyst, AnalystRole
from radar.score_series import JUST_BEFORE, series_moments
from services.pages.i18n import translations
from services.pages.sessions import SessionBook, same_token
from services.pages.web import TEMPLATES
from services.settings import Settings

START = datetime(2026, 3, 1, tzinfo=UTC)
SAME_IN_DUTCH = {"Sector", "Status", "Filter", "Audit"}
ANALYST = Analyst("a.jansen", "vt-utrecht", AnalystRole.TRIAGE, "VT09")  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def test_a_session_unused_for_the_idle_time_is_ended() -> None:
    clock = Clock()
    book = SessionBook(timedelta(minutes=30), clock)
    session_id, _ = book.open(ANALYST, "nl")
    clock.now += timedelta(minutes=29)
    assert book.find(session_id) is not None, "used within the idle time: kept, and restarted"
    clock.now += timedelta(minutes=29)
    assert book.find(session_id) is not None
    clock.now += timedelta(minutes=31)
    assert book.find(session_id) is None
    assert book.find(session_id) is None, "and stays ended"


def test_sign_out_ends_the_session_at_once() -> None:
    book = SessionBook(timedelta(minutes=30))
    session_id, session = book.open(ANALYST, "en")
    assert book.find(session_id) is session
    book.close(session_id)
    assert book.find(session_id) is None
    assert book.find(None) is None and book.find("") is None


def test_a_csrf_token_matches_only_itself() -> None:
    assert same_token("abc", "abc")
    assert not same_token(None, "abc") and not same_token("abd", "abc")


def test_the_score_series_steps_at_each_signal() -> None:
    signal = START + timedelta(days=10)
    moments = series_moments(START, START + timedelta(days=30), [signal])
    assert moments == sorted(moments) and moments[0] == START
    assert signal in moments and signal - JUST_BEFORE in moments


def test_the_development_sign_in_refuses_production_settings() -> None:
    with pytest.raises(ValidationError, match="RADAR_PAGES_DEV_SIGN_IN"):
        Settings(pages_dev_sign_in=True, allow_plain_identifiers=False)
    with pytest.raises(ValidationError, match="RADAR_PAGES_DEV_SIGN_IN"):
        Settings(pages_dev_sign_in=True, pages_behind_tls=True)
    assert Settings(pages_dev_sign_in=True).pages_dev_sign_in


def test_dutch_is_the_catalogue_and_english_the_ids() -> None:
    assert translations("nl").gettext("Worklist") == "Werklijst"
    assert translations("en").gettext("Worklist") == "Worklist"


def test_every_string_of_the_pages_has_its_dutch_translation() -> None:
    """A page in Dutch shows no English left untranslated (Babel catalogue, services/pages)."""
    found = {
        message
        for template in TEMPLATES.glob("*.html")
        for message in re.findall(r'_\("([^"]*)"\)', template.read_text())
    }
    dutch = translations("nl")
    untranslated = sorted(m for m in found if dutch.gettext(m) == m and m not in SAME_IN_DUTCH)
    assert not untranslated, untranslated
