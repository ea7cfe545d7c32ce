"""Referral in a real browser: a VT analyst assesses a report as a suspected offence and refers
it with the "Doorverwijzen naar OM" form (ticking persons and signals), and the OM's officer
sees it on "Doorverwijzingen", awaiting the decision. Every page passes axe-core."""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from services.projections.projector import Projector
from services.referrals.store import ReferralStore
from tests.browser.conftest import Site, accessible, screenshot, submit
from tests.browser.test_pages_in_browser import sign_in
from tests.support.radar_fixtures import CHILD, OTHER_FAMILY


def _project_referrals(site: Site) -> None:
    """The referrals read model follows the step, as the radar's projector process does."""
    engine = site.radar.worklist.engine
    store = ReferralStore(engine, site.radar.database.row_sealer(engine))
    Projector(site.radar.ledger, store, batch_size=7).catch_up()


def test_refer_a_suspected_offence_and_the_om_sees_it(
    browser: webdriver.Chrome, site: Site
) -> None:
    sign_in(browser, site, user="safety-utrecht")
    browser.get(f"{site.url}/pages/households/{OTHER_FAMILY}?purpose=safety_assessment")
    form = browser.find_element(By.CSS_SELECTOR, "form.assessment-form")
    form.find_element(By.CSS_SELECTOR, "input[name=structural][value=yes]").click()
    Select(form.find_element(By.NAME, "urgency")).select_by_value("high")
    Select(form.find_element(By.NAME, "decision")).select_by_value("suspected_offence")
    form.find_element(By.NAME, "reason").send_keys("Letsel bij het kind, vermoeden van geweld")
    submit(browser, form.find_element(By.TAG_NAME, "button"))

    referral = browser.find_element(By.CSS_SELECTOR, "form.referral-form")
    assert "Doorverwijzen naar OM" in referral.text
    referral.find_element(By.CSS_SELECTOR, f"input[name=persons][value='{CHILD}']").click()
    referral.find_elements(By.CSS_SELECTOR, "input[name=signals]")[0].click()
    referral.find_element(By.NAME, "recipient").send_keys("om-midden-nederland")
    referral.find_element(By.NAME, "reason").send_keys("Vermoeden van kindermishandeling")
    accessible(browser)
    screenshot(browser, "40-referral-form")
    before = site.log.count()
    submit(browser, referral.find_element(By.TAG_NAME, "button"))
    assert site.log.count() == before + 2, "the step and the household page it returns to"
    assert "hh." not in browser.title
    referred = browser.find_element(By.CSS_SELECTOR, "p.referred").text
    assert referred == "Doorverwezen naar: om-midden-nederland"

    _project_referrals(site)
    sign_in(browser, site, user="om-utrecht")
    browser.find_element(By.ID, "purpose-prosecution").click()
    submit(browser, browser.find_element(By.CSS_SELECTOR, "main form button"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Doorverwijzingen"
    [row] = browser.find_elements(By.CSS_SELECTOR, "#referrals tbody tr")
    assert CHILD in row.text and "Wacht op de beslissing" in row.text
    assert "dev.veiligheid" in row.text, "the VT contact"
    accessible(browser)
    screenshot(browser, "41-referrals-of-the-om")
