"""VT's findings in the pages, in a real browser: on the household page an analyst finds a
signal unfounded with a reason (it stays in the timeline, marked, and the explanation says it is
left out of the score) and protects the reporter of another. Every page passes axe-core."""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.browser.conftest import Site, accessible, screenshot, submit
from tests.browser.test_pages_in_browser import open_household, sign_in


def test_find_a_signal_unfounded_and_protect_a_reporter(
    browser: webdriver.Chrome, site: Site
) -> None:
    sign_in(browser, site)
    open_household(browser, site)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#explanation tbody tr")) == 3
    signals = len(browser.find_elements(By.CSS_SELECTOR, "#timeline tbody tr"))
    accessible(browser)
    form = browser.find_elements(By.CSS_SELECTOR, "#timeline form.finding-form")[0]
    form.find_element(By.TAG_NAME, "textarea").send_keys("Na onderzoek bleek het niet te kloppen.")
    submit(browser, form.find_element(By.XPATH, ".//button[text()='Ongegrond verklaren']"))

    marks = browser.find_elements(By.CSS_SELECTOR, "#timeline .mark.unfounded")
    assert [m.text for m in marks] == [
        "ongegrond verklaard door Veilig Thuis: telt niet meer mee in de score"
    ]
    assert len(browser.find_elements(By.CSS_SELECTOR, "#timeline tbody tr")) == signals, "kept"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#explanation tbody tr")) == 2
    left_out = browser.find_element(By.ID, "left-out").text
    assert left_out.startswith("Niet meegeteld in de score: ongegrond verklaard door Veilig Thuis")
    accessible(browser)
    screenshot(browser, "20-household-signal-found-unfounded")

    form = browser.find_elements(By.CSS_SELECTOR, "#timeline form.protection-form")[-1]
    form.find_element(By.TAG_NAME, "textarea").send_keys("De melder vreest voor represailles.")
    submit(browser, form.find_element(By.XPATH, ".//button[text()='Melder beschermen']"))
    screenshot(browser, "21-household-reporter-protected")
    protected = browser.find_elements(By.CSS_SELECTOR, "#timeline .mark.protected")
    # the police is protected in this household: both its signals here are marked
    assert [m.text for m in protected] == ["melder beschermd"] * 2
    accessible(browser)
    screenshot(browser, "21-household-reporter-protected")
