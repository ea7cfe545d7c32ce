"""The reporter's page "Mijn signalen" in a real browser: Veilig Thuis assesses a report, and
the police's contact, signed in as role reporter, reaches the page by keyboard alone and sees
its own signals with what Veilig Thuis decided, and nothing of the school's; axe-core passes."""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import WebDriverWait

from services.feedback.store import FeedbackStore
from services.projections.projector import Projector
from tests.browser.conftest import Site, accessible, screenshot
from tests.browser.test_pages_in_browser import assess_the_report, sign_in


def test_the_reporter_reads_its_own_signals_and_what_veilig_thuis_decided(
    browser: webdriver.Chrome, site: Site
) -> None:
    assess_the_report(browser, site)
    radar = site.radar
    feedback = FeedbackStore(radar.worklist.engine, radar.worklist.sealer)
    Projector(radar.ledger, feedback, batch_size=50).catch_up()

    sign_in(browser, site, "reporter-politie")
    accessible(browser)
    body = browser.find_element(By.TAG_NAME, "body")
    for _ in range(20):  # skip link, nav, sign-out, the purpose, then Continue: by keyboard
        body.send_keys(Keys.TAB)
        focused = browser.switch_to.active_element
        if focused.tag_name == "button" and focused.text == "Verder":
            break
    page = browser.find_element(By.TAG_NAME, "html")
    focused.send_keys(Keys.ENTER)
    WebDriverWait(browser, 10).until(staleness_of(page))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Mijn signalen"
    rows = browser.find_elements(By.CSS_SELECTOR, "#my-signals tbody tr")
    assert len(rows) == 4, "the police's zorgmeldingen and huisverboden, not the school's"
    table = browser.find_element(By.ID, "my-signals").text
    assert "Opgepakt door Veilig Thuis" in table and "Eigen onderzoek" in table
    assert "Schoolverzuim" not in table and "hh." not in browser.page_source
    assert "Ontvangen en vastgelegd" in browser.find_element(By.ID, "feedback").text
    accessible(browser)
    screenshot(browser, "40-mijn-signalen")
