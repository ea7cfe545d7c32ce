"""The demo population: synthetic people only (BSNs passing the elfproef, valid postcodes),
each signal of a type its sector may publish, a region to try across, and the same seed making
the same population."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from contracts.bsn import passes_elfproef
from contracts.vocabulary import SIGNAL_TYPES, SignalType
from privacy.addresses import HomeAddress
from services.pages.demo import by_sector, population

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_the_demo_holds_synthetic_people_and_valid_signals_only() -> None:
    signals = population(random.Random(7), 40, NOW)
    assert len({s.submission["household"]["postcode"] for s in signals}) > 20
    for signal in signals:
        submission = signal.submission
        assert signal.sector in SIGNAL_TYPES[SignalType(submission["signal_type"])].sectors
        assert all(passes_elfproef(p["bsn"]) for p in submission["persons"])
        HomeAddress.normalised(**submission["household"])  # raises on an invalid address
        assert datetime.fromisoformat(submission["occurred_at"]) < NOW
    assert {s.submission["region"] for s in signals} == {"VT09", "VT13"}
    assert len(by_sector(signals)) >= 4, "several sectors, so that cross-sector alerts arise"


def test_the_same_seed_makes_the_same_population() -> None:
    def people(seed: int) -> list[object]:
        return [s.submission["persons"] for s in population(random.Random(seed), 10, NOW)]

    assert people(3) == people(3) and people(3) != people(4)
