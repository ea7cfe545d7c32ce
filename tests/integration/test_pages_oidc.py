"""Signing in to the pages with OpenID Connect against a loopback provider: the person, role,
region and organisation come from the signed ID token; a callback not started in this browser,
or an ID token with another nonce, signs nobody in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.database import Database
from tests.support.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider, loopback_provider
from tests.support.radar_fixtures import Harness, radar_query_harness

CALLBACK = "http://testserver/pages/sign-in/oidc/callback"
PRIVACY_OFFICER = {
    "sub": "m.devries",
    "organisation": "vt-utrecht",
    "radar_role": "privacy_officer",
    "radar_region": "VT09",
}


@pytest.fixture
def provider() -> Iterator[Provider]:
    with loopback_provider(PRIVACY_OFFICER) as running:
        yield running


@pytest.fixture
def harness(
    tmp_path: Path, sqlite_database: Database, provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Harness]:
    secret = tmp_path / "client-secret"
    secret.write_text(CLIENT_SECRET)
    for name, value in {
        "ISSUER": provider.url,
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET_FILE": str(secret),
        "REDIRECT_URL": CALLBACK,
    }.items():
        monkeypatch.setenv(f"RADAR_PAGES_OIDC_{name}", value)
    yield from radar_query_harness(tmp_path, sqlite_database)


def through_the_provider(harness: Harness) -> Any:
    start = harness.client.get("/pages/sign-in/oidc", follow_redirects=False)
    assert start.status_code == 303
    back = httpx.get(start.headers["location"], follow_redirects=False)
    assert back.headers["location"].startswith(CALLBACK)
    return back.headers["location"].removeprefix("http://testserver")


def test_the_identity_provider_signs_a_person_in_with_role_and_region(
    harness: Harness,
) -> None:
    sign_in = harness.client.get("/pages/sign-in")
    assert 'href="/pages/sign-in/oidc"' in sign_in.text
    assert 'name="user"' not in sign_in.text, "no development sign-in beside OIDC here"
    done = harness.client.get(through_the_provider(harness), follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/pages/break-glass"
    page = harness.client.get("/pages/register")
    assert "m.devries · privacy_officer · VT09" in page.text


def test_a_callback_not_started_in_this_browser_signs_nobody_in(harness: Harness) -> None:
    callback = through_the_provider(harness)
    harness.client.cookies.clear()
    refused = harness.client.get(callback, follow_redirects=False)
    assert refused.status_code == 401
    assert harness.client.get("/pages/register", follow_redirects=False).status_code == 303


def test_an_id_token_with_another_nonce_is_refused(harness: Harness, provider: Provider) -> None:
    provider.forged_nonce = True
    refused = harness.client.get(through_the_provider(harness), follow_redirects=False)
    assert refused.status_code == 401 and "not valid" in refused.text
