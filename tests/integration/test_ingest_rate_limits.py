"""Per-organisation rate limits as a publisher meets them, in-process on the real broker and both
databases: every signal costs a token (duplicates and invalid ones too), a request over what
remains is refused whole with 429 and Retry-After and leaves Kafka and the receipts untouched,
another organisation is not held up, and the OpenAPI document says so."""

from __future__ import annotations

import uuid

import pytest

from contracts.vocabulary import Sector
from privacy.actors import Publisher
from privacy.credentials import Audience, TokenAuthority
from services.settings import Settings
from tests.support.ingest import (
    HOUR,
    TopicProbe,
    bearer,
    ingest_client,
    police_signals,
    police_token,
    receipts,
)

pytestmark = pytest.mark.integration

BURST = 10
"""Each organisation's bucket in these tests; it refills so slowly that a test never sees it."""
OTHER_POLICE = Publisher("sys-2", "politie-amsterdam", Sector.POLICE)


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return Settings.model_validate(
        {
            **settings.model_dump(),
            "ingest_rate_per_organisation": 0.001,  # a token every 1,000 s
            "ingest_burst_per_organisation": BURST,
            "max_batch_signals": BURST,
        }
    )


def test_an_organisation_over_its_limit_gets_429_and_nothing_is_stored(
    limited: Settings, kafka: TopicProbe
) -> None:
    authority = TokenAuthority(limited.keys_dir)
    token = police_token(authority)
    first, second, invalid, *fresh = police_signals(BURST + 4, seed=22)
    invalid = {**invalid, "severity": "apocalyptic"}
    with ingest_client(limited) as client:
        batch = client.post("/v1/signals/batch", json={"signals": fresh[:6]}, headers=token)
        assert batch.status_code == 200, batch.text
        assert batch.json()["accepted"] == 6  # 6 of 10 tokens taken, 4 left

        over = client.post("/v1/signals/batch", json={"signals": fresh[6:11]}, headers=token)
        assert over.status_code == 429, over.text  # 5 asked, 4 left: refused whole
        assert int(over.headers["Retry-After"]) >= 1
        assert "rate limit" in over.json()["detail"]
        assert "nothing was stored" in over.json()["detail"]
        assert kafka.count() == 6

        assert client.post("/v1/signals", json=first, headers=token).status_code == 202
        duplicate = client.post("/v1/signals", json=first, headers=token)
        assert duplicate.status_code == 200  # a duplicate still costs: 2 left
        mixed = client.post("/v1/signals/batch", json={"signals": [second, invalid]}, headers=token)
        assert mixed.json()["accepted"] == 1 and mixed.json()["rejected"] == 1  # 0 left

        single = client.post("/v1/signals", json=fresh[6], headers=token)
        assert single.status_code == 429
        assert int(single.headers["Retry-After"]) >= 1
        retraction = client.post(
            f"/v1/signals/{first['event_id']}/retraction",
            json={"correction_id": str(uuid.uuid4()), "reason": "sent by mistake"},
            headers=token,
        )
        assert retraction.status_code == 429  # corrections and retractions count too

        other = bearer(authority.issue(OTHER_POLICE, Audience.INGEST, HOUR))
        answer = client.post("/v1/signals/batch", json={"signals": fresh[6:]}, headers=other)
        assert answer.status_code == 200 and answer.json()["accepted"] == len(fresh[6:])

    published = {str(event.event_id) for event in kafka.events()}
    assert published == {s["event_id"] for s in [*fresh, first, second]}
    by_organisation = receipts(limited, published).values()
    assert sorted(by_organisation).count("politie-utrecht") == 8  # 6 + first + second


def test_the_openapi_document_declares_429_on_every_publishing_route(limited: Settings) -> None:
    with ingest_client(limited) as client:
        paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/signals",
        "/v1/signals/batch",
        "/v1/signals/{event_id}/correction",
        "/v1/signals/{event_id}/retraction",
    ):
        assert "429" in paths[path]["post"]["responses"], path
