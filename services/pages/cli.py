"""`radar demo`: publishes a synthetic demo population to a running radar (make run)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from contracts.vocabulary_v2 import SectorV2
from privacy.actors import Publisher
from privacy.credentials import Audience, TokenAuthority
from publisher_sdk.client import PublisherClient
from services.pages.demo import PUBLISHERS, by_sector, population
from services.settings import Settings

TOKEN_LIFETIME = timedelta(hours=1)


def demo(
    households: Annotated[int, typer.Option(min=1, max=5000, help="How many households.")] = 60,
    seed: Annotated[int, typer.Option(help="The same seed makes the same population.")] = 19,
    ingest: Annotated[
        str | None, typer.Option(help="The ingest API (default: this host's RADAR_INGEST_PORT).")
    ] = None,
) -> None:
    """Publish a synthetic demo population (households, signals from five sectors over
    eighteen months) through the ingest API, for a realistic worklist and charts."""
    settings = Settings()
    url = ingest or f"http://{settings.host}:{settings.ingest_port}"
    authority = TokenAuthority(settings.keys_dir)
    signals = population(random.Random(seed), households, datetime.now(UTC))
    accepted = failed = 0
    for sector, submissions in by_sector(signals).items():
        subject, organisation = PUBLISHERS[sector]
        token = authority.issue(
            Publisher(subject, organisation, SectorV2(sector)), Audience.INGEST, TOKEN_LIFETIME
        )
        with PublisherClient(url, token) as client:
            for result in client.publish(submissions):
                if result.status in {"accepted", "duplicate"}:
                    accepted += 1
                else:
                    failed += 1
                    typer.echo(f"{result.event_id}: {result.status} {result.errors}", err=True)
    typer.echo(
        f"radar demo: {accepted} signals about {households} households published, {failed} not"
    )
    if failed:
        raise typer.Exit(1)
