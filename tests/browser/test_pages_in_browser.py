"""What a VT analyst does in the pages, in a real browser: sign in, open the worklist, open a
household and see its chart and explanation, triage an alert, set safety conditions, and be
asked for a justification for another region's household. Every page passes axe-core."""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.browser.conftest import (
    ELSEWHERE,
    FAMILY_BSNS,
    Site,
    accessible,
    screenshot,
    submit,
)
from tests.support.radar_fixtures import FAMILY, OTHER_FAMILY


def sign_in(
    browser: webdriver.Chrome,
    site: Site,
    user: str = "triage-utrecht",
    heading: str = "Kies een doel",
    locale: str = "nl",
) -> None:
    browser.delete_all_cookies()
    browser.get(f"{site.url}/pages/sign-in")
    accessible(browser)
    Select(browser.find_element(By.ID, "user")).select_by_value(user)
    Select(browser.find_element(By.ID, "locale")).select_by_value(locale)
    submit(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/pages/sign-in'] button"))
    assert browser.find_element(By.TAG_NAME, "h1").text == heading


def open_household(browser: webdriver.Chrome, site: Site) -> None:
    browser.get(f"{site.url}/pages/worklist?purpose=triage")
    browser.find_element(By.CSS_SELECTOR, f"a[href^='/pages/households/{FAMILY}']").click()


def test_sign_in_and_open_the_worklist(browser: webdriver.Chrome, site: Site) -> None:
    sign_in(browser, site)
    accessible(browser)
    screenshot(browser, "01-purpose-before-anything")
    browser.find_element(By.ID, "purpose-triage").click()
    submit(browser, browser.find_element(By.CSS_SELECTOR, "main form button"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Werklijst VT09"
    rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert len(rows) >= 1
    assert ELSEWHERE not in browser.page_source, "another region's alerts are not listed"
    assert "hh." not in browser.title and "hh." not in browser.current_url
    accessible(browser)
    screenshot(browser, "02-worklist")


def test_a_household_shows_its_chart_and_explanation(browser: webdriver.Chrome, site: Site) -> None:
    sign_in(browser, site)
    before = site.log.count()
    open_household(browser, site)
    chart = browser.find_element(By.ID, "risk-chart")
    assert chart.find_elements(By.CSS_SELECTOR, "circle.marker"), "a marker per signal"
    assert chart.find_elements(By.CSS_SELECTOR, "rect.band-alert"), "the alert as a band"
    lines = browser.find_elements(By.CSS_SELECTOR, "#explanation tbody tr")
    assert len(lines) == 3
    assert "hh." not in browser.title
    assert site.log.count() == before + 2, "one entry for the worklist, one for the household"
    accessible(browser)
    screenshot(browser, "03-household-chart-explanation")


def test_triage_an_alert_and_set_safety_conditions(browser: webdriver.Chrome, site: Site) -> None:
    sign_in(browser, site)
    open_household(browser, site)
    submit(browser, browser.find_element(By.XPATH, "//button[text()='In behandeling nemen']"))
    Select(browser.find_element(By.CSS_SELECTOR, "select[name=outcome]")).select_by_value("monitor")
    browser.find_element(By.CSS_SELECTOR, "form[action$='/triage'] textarea").send_keys(
        "Politie en school zien hetzelfde patroon"
    )
    submit(browser, browser.find_element(By.XPATH, "//button[text()='Triage vastleggen']"))
    assert "Triage vastgelegd" in browser.find_element(By.CSS_SELECTOR, "article.alert h3").text
    screenshot(browser, "04-alert-triaged")

    browser.find_element(By.ID, "conditions").send_keys("Geen geweld in huis\nKinderen naar school")
    Select(browser.find_element(By.ID, "excluded")).select_by_value("huisverbod")
    submit(
        browser,
        browser.find_element(By.XPATH, "//button[text()='Veiligheidsvoorwaarden vastleggen']"),
    )
    assert "Geen geweld in huis" in browser.find_element(By.CSS_SELECTOR, "article.plan").text
    assert browser.find_elements(By.CSS_SELECTOR, "#risk-chart rect.band-conditions")
    accessible(browser)
    screenshot(browser, "05-safety-conditions")


def test_re_identify_a_household_after_a_confirmation(
    browser: webdriver.Chrome, site: Site
) -> None:
    sign_in(browser, site)
    open_household(browser, site)
    submit(browser, browser.find_element(By.ID, "reidentify"))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Heridentificeren"
    accessible(browser)
    browser.find_element(By.ID, "justification").send_keys("Contact opnemen voor het huisbezoek")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "#identity-form button"))
    assert browser.find_element(By.ID, "identity-warning")
    assert not any(bsn in browser.page_source for bsn in FAMILY_BSNS), "nothing shown yet"
    accessible(browser)
    screenshot(browser, "17-reidentify-confirmation")
    before = site.log.count()
    submit(browser, browser.find_element(By.CSS_SELECTOR, "#identity-confirm button"))
    persons = browser.find_element(By.ID, "identity-persons").text
    assert all(bsn in persons for bsn in FAMILY_BSNS)
    assert not any(bsn in browser.current_url + browser.title for bsn in FAMILY_BSNS)
    assert site.log.count() == before + 1, "one access-log entry for the identity"
    accessible(browser)
    screenshot(browser, "18-identity-shown")


def assess_the_report(browser: webdriver.Chrome, site: Site) -> None:
    """A triage analyst assesses OTHER_FAMILY's report in the form: own investigation."""
    sign_in(browser, site)
    browser.get(f"{site.url}/pages/households/{OTHER_FAMILY}?purpose=triage")
    form = browser.find_element(By.CSS_SELECTOR, "form.assessment-form")
    form.find_element(By.CSS_SELECTOR, "input[name=acute][value=yes]").click()
    Select(form.find_element(By.NAME, "urgency")).select_by_value("acute")
    Select(form.find_element(By.NAME, "expertise")).select_by_value("child_abuse")
    Select(form.find_element(By.NAME, "decision")).select_by_value("own_investigation")
    form.find_element(By.NAME, "reason").send_keys("Politie meldt geweld, kinderen thuis")
    accessible(browser)
    screenshot(browser, "20-safety-assessment-form")
    submit(browser, form.find_element(By.TAG_NAME, "button"))


def test_assess_a_report_with_the_instrument(browser: webdriver.Chrome, site: Site) -> None:
    assess_the_report(browser, site)
    assert "Eigen onderzoek" in browser.find_element(By.CSS_SELECTOR, "p.assessed").text
    accessible(browser)
    screenshot(browser, "21-safety-assessment-recorded")


def test_another_regions_household_asks_for_a_justification(
    browser: webdriver.Chrome, site: Site
) -> None:
    sign_in(browser, site)
    browser.get(f"{site.url}/pages/households/{ELSEWHERE}?purpose=triage")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Onderbouwing nodig"
    assert "huisverbod" not in browser.page_source
    accessible(browser)
    screenshot(browser, "06-justification-asked")
    browser.find_element(By.ID, "justification").send_keys(
        "Gezin is verhuisd; politie Amsterdam meldt zorgen over de kinderen"
    )
    submit(browser, browser.find_element(By.XPATH, "//button[text()='Huishouden openen']"))
    assert browser.find_element(By.ID, "risk-chart")
    assert "Toegang: Bovenregionaal" in browser.find_element(By.TAG_NAME, "main").text
    accessible(browser)
    screenshot(browser, "07-opened-with-justification")
    submit(browser, browser.find_element(By.XPATH, "//button[text()='In behandeling nemen']"))
    assert "In behandeling" in browser.find_element(By.CSS_SELECTOR, "article.alert h3").text
    screenshot(browser, "19-other-region-alert-acknowledged")

    sign_in(browser, site, "triage-amsterdam")  # the household's own region is told
    browser.get(f"{site.url}/pages/notices?purpose=triage")
    assert browser.find_elements(By.CSS_SELECTOR, "#notices tbody tr")
    assert "vt-utrecht" in browser.find_element(By.ID, "notices").text
    accessible(browser)
    screenshot(browser, "16-notices-to-the-region")


def test_the_privacy_officer_reviews_a_break_glass(browser: webdriver.Chrome, site: Site) -> None:
    sign_in(browser, site)
    browser.get(f"{site.url}/pages/households/{ELSEWHERE}?purpose=triage")
    browser.find_element(By.ID, "justification").send_keys(
        "Acuut gevaar: politie meldt dreiging met een wapen in het gezin"
    )
    browser.find_element(By.ID, "break_glass").click()
    submit(browser, browser.find_element(By.XPATH, "//button[text()='Huishouden openen']"))
    assert "Toegang: Noodtoegang" in browser.find_element(By.TAG_NAME, "main").text

    sign_in(browser, site, "privacy-officer")
    submit(browser, browser.find_element(By.CSS_SELECTOR, "main form button"))
    [access] = browser.find_elements(By.CSS_SELECTOR, "article.plan:has(form)")
    accessible(browser)
    screenshot(browser, "08-break-glass-queue")
    access.find_element(By.TAG_NAME, "textarea").send_keys("Dreiging bevestigd door de politie")
    submit(browser, access.find_element(By.TAG_NAME, "button"))
    assert "gerechtvaardigd" in browser.find_element(By.CSS_SELECTOR, "p.review").text
    accessible(browser)
    screenshot(browser, "09-break-glass-reviewed")

    for page in ("/pages/access-log?purpose=accountability", "/pages/register"):
        browser.get(f"{site.url}{page}")
        accessible(browser)
    screenshot(browser, "10-purpose-register")


def test_the_auditor_reaches_the_reports_from_one_page(
    browser: webdriver.Chrome, site: Site
) -> None:
    sign_in(browser, site, "auditor", "Audit")
    accessible(browser)
    screenshot(browser, "11-audit")
    submit(browser, browser.find_element(By.XPATH, "//a[contains(@href, '/pages/audit/verify')]"))
    assert "verif" in browser.page_source.lower()
    screenshot(browser, "12-audit-verify")


def test_the_region_dashboard_charts_the_worklist(browser: webdriver.Chrome, site: Site) -> None:
    sign_in(browser, site)
    before = site.log.count()
    browser.get(f"{site.url}/pages/dashboard?purpose=triage")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Regiodashboard VT09"
    assert browser.find_elements(By.CSS_SELECTOR, "#age-chart rect.bar")
    assert browser.find_elements(By.CSS_SELECTOR, "#kind-chart rect.bar")
    assert site.log.count() == before + 1
    accessible(browser)
    screenshot(browser, "15-region-dashboard")


def test_lead_times_and_the_effect_monitor_with_their_definitions(
    browser: webdriver.Chrome, site: Site
) -> None:
    sign_in(browser, site, "monitoring-utrecht")
    browser.get(f"{site.url}/pages/lead-times?purpose=monitoring")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Doorlooptijden"
    assert browser.find_elements(By.CSS_SELECTOR, "#definitions dd")
    accessible(browser)
    screenshot(browser, "22-lead-times")
    browser.get(f"{site.url}/pages/effect-monitor?purpose=programme_monitoring")
    assert browser.find_elements(By.CSS_SELECTOR, "table.effect-monitor tbody tr")
    figures = browser.find_element(By.CSS_SELECTOR, "table.effect-monitor tbody").text
    assert "Huishoudens in beeld" in figures and "households_in_view" not in figures
    accessible(browser)
    screenshot(browser, "23-effect-monitor")
    sign_in(browser, site, "monitoring-utrecht", "Choose a purpose", locale="en")
    browser.get(f"{site.url}/pages/effect-monitor?purpose=programme_monitoring")
    figures = browser.find_element(By.CSS_SELECTOR, "table.effect-monitor tbody").text
    assert "Households in view" in figures and "Huishoudens" not in figures
    screenshot(browser, "23-effect-monitor-en")


def test_signing_in_works_by_keyboard_alone(browser: webdriver.Chrome, site: Site) -> None:
    """Every action is a native link, button or form field: Tab reaches it, Enter does it."""
    browser.delete_all_cookies()
    browser.get(f"{site.url}/pages/sign-in")
    body = browser.find_element(By.TAG_NAME, "body")
    page = browser.find_element(By.TAG_NAME, "html")
    for _ in range(10):  # skip link, user, language, then the button
        body.send_keys(Keys.TAB)
        focused = browser.switch_to.active_element
        if focused.tag_name == "button":
            break
    focused.send_keys(Keys.ENTER)
    WebDriverWait(browser, 10).until(staleness_of(page))
    assert browser.find_element(By.TAG_NAME, "h1").text == "Kies een doel"
