"""Handle with Care in a real browser: Veilig Thuis confirms a notice on its page of notices to
check, and the school reads it on its Handle with Care page and acknowledges it. Every page
passes axe-core."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from services.handle_with_care.store import HandleWithCareStore
from services.projections.projector import Projector
from tests.browser.conftest import Site, accessible, screenshot, submit
from tests.browser.test_pages_in_browser import sign_in
from tests.support.radar_fixtures import CHILD, FAMILY, MOTHER
from tests.support.signals_v2 import person, signal_v2


def _store(site: Site) -> HandleWithCareStore:
    engine = site.radar.worklist.engine
    return HandleWithCareStore(engine, site.radar.database.row_sealer(engine))


@pytest.fixture
def projecting(site: Site) -> Iterator[None]:
    """The Handle with Care read model kept up to date, as the radar's projector process does."""
    store, stop = _store(site), threading.Event()

    def follow() -> None:
        while not stop.wait(0.1):
            Projector(site.radar.ledger, store, batch_size=50).catch_up()

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    yield
    stop.set()
    follower.join(10)


def _choose(browser: webdriver.Chrome, purpose: str) -> None:
    browser.find_element(By.ID, f"purpose-{purpose}").click()
    submit(browser, browser.find_element(By.CSS_SELECTOR, "main form button"))


def test_veilig_thuis_confirms_and_the_school_acknowledges(
    browser: webdriver.Chrome, site: Site, projecting: None
) -> None:
    call_out = datetime.now(UTC) - timedelta(hours=3)
    persons = [person(MOTHER, "parent_or_carer", age=36), person(CHILD, "child", age=10)]
    site.radar.record(signal_v2("incident_with_children_present", call_out, FAMILY, persons))  # type: ignore[arg-type]
    Projector(site.radar.ledger, _store(site), batch_size=50).catch_up()

    sign_in(browser, site)
    browser.get(f"{site.url}/pages/handle-with-care/pending")
    _choose(browser, "handle_with_care_check")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Handle with Care te controleren"
    accessible(browser)
    screenshot(browser, "hwc-01-to-check")
    browser.find_element(By.CSS_SELECTOR, "input[name=municipality]").send_keys("Utrecht")
    confirm = browser.find_element(By.CSS_SELECTOR, "form[action$='/confirm']")
    confirm.find_element(By.TAG_NAME, "textarea").send_keys("Het kind woont er; criteria voldaan.")
    submit(browser, confirm.find_element(By.TAG_NAME, "button"))
    assert "Geen meldingen te controleren." in browser.page_source, "the page shows the step"

    sign_in(browser, site, user="school-utrecht")
    _choose(browser, "handle_with_care_notice")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Handle with Care-meldingen"
    [row] = browser.find_elements(By.CSS_SELECTOR, "#notices tbody tr")
    assert "08:30" in row.text and "van uw signaal" in row.text
    for secret in (FAMILY, CHILD, MOTHER, "incident", "politie"):
        assert secret not in browser.page_source, "that something happened, never what or who"
    accessible(browser)
    screenshot(browser, "hwc-02-school-notices")
    submit(browser, row.find_element(By.TAG_NAME, "button"))
    [row] = browser.find_elements(By.CSS_SELECTOR, "#notices tbody tr")
    assert "Gelezen" in row.text
    accessible(browser)
