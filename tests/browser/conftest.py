"""The pages served by a real query service (uvicorn on a free port, an SQLite database with a
synthetic story) and driven by Debian's headless Chromium through Selenium; axe-core, injected
into each page, must find no serious or critical violation. Screenshots go to
test-results/screenshots/ (CI keeps the folder). `make browser` installs what these need."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from privacy.addresses import HomeAddress
from privacy.storage.vault import Identity
from services import bootstrap
from services.database import Database
from services.settings import Settings
from tests.support.radar_fixtures import FAMILY, OTHER_FAMILY, Radar, signal

REPO = Path(__file__).parents[2]
AXE = REPO / ".local" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO / "test-results" / "screenshots"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ELSEWHERE = "hh.k1." + "d" * 32
"""A household of region VT13 (Amsterdam-Amstelland): Utrecht's analysts need a reason."""
FAMILY_MEMBERS = ("p.k1." + "a" * 32, "p.k1." + "b" * 32)
FAMILY_BSNS = ("111222333", "123456782")  # synthetic: they pass the elfproef
SERIOUS = {"serious", "critical"}
PROJECT_EVERY_SECONDS = 0.1


def ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


@dataclass
class Site:
    url: str
    radar: Radar
    log: Any


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _project_until(radar: Radar, stop: threading.Event) -> None:
    while not stop.wait(PROJECT_EVERY_SECONDS):
        radar.project()


def _deposit_identity(settings: Settings) -> None:
    """Who FAMILY is, as ingest would have put it in the identity vault (synthetic BSNs)."""
    keys = bootstrap.pseudonyms(settings).pseudonymiser()
    home = HomeAddress.normalised("3511 AB", 12)
    members = tuple(zip(FAMILY_MEMBERS, FAMILY_BSNS, strict=True))
    bootstrap.identity_vault(settings).deposit([Identity(FAMILY, home, members)], keys)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    data = tmp_path_factory.mktemp("pages")
    database = Database(f"sqlite:///{data / 'radar.db'}", data / "data" / "keys")
    radar = Radar(database)
    radar.record(
        signal("zorgmelding", ago(120)),
        signal("school_absence", ago(60), severity="moderate"),
        signal("huisverbod", ago(10)),
        signal("zorgmelding", ago(30), household=OTHER_FAMILY),
        signal("vt_report", ago(2), household=OTHER_FAMILY),  # to assess (safety assessment)
        signal("huisverbod", ago(4), household=ELSEWHERE, region="VT13"),
    )
    settings = Settings(data_dir=data / "data", database_url=database.url, pages_dev_sign_in=True)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            bootstrap.query_app(settings), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            pytest.fail("the query service did not start")
        time.sleep(0.05)
    _deposit_identity(settings)
    stop = threading.Event()
    projector = threading.Thread(target=_project_until, args=(radar, stop), daemon=True)
    projector.start()  # as the radar's projector process does: the read models follow the steps
    engine = database.engine()
    yield Site(f"http://127.0.0.1:{port}", radar, database.access_log(engine))
    stop.set()
    projector.join(10)
    server.should_exit = True
    thread.join(10)
    radar.close()
    engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    if not Path(CHROMEDRIVER).exists() or not AXE.exists():
        pytest.fail("chromium, chromium-driver or axe-core missing: run `make browser`")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--window-size=1280,1400")
    options.add_argument("--lang=nl")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(2)
    yield driver
    driver.quit()


def accessible(driver: webdriver.Chrome) -> None:
    """axe-core on the page as shown: no serious or critical violation (WCAG 2.1 AA)."""
    driver.execute_script(AXE.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', "
        "'best-practice']}).then(r => done(r.violations));"
    )
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result
        if v["impact"] in SERIOUS
    ]
    assert not serious, serious


def submit(driver: webdriver.Chrome, button: Any) -> None:
    """Clicks a form's button and waits until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    button.click()
    wait = WebDriverWait(driver, 10)
    wait.until(lambda _driver: _replaced(page))
    # the old document is gone; the next one may still be loading (a step's page waits for
    # the read models): read it only when it is complete
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def _replaced(page: Any) -> bool:
    """Whether the element's document is gone. Mid-navigation chromedriver may answer "Node
    with given id does not belong to the document" (an unknown error) instead of a stale
    element, which selenium's staleness_of does not expect: seen under load, 1 run in 5."""
    try:
        page.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as error:
        if "does not belong to the document" in str(error):
            return True
        raise
    return False


def screenshot(driver: webdriver.Chrome, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
