"""The benchmark's data: seeded synthetic submissions (testkit.synthetic.SyntheticPopulation,
skewed: most households 1-3 signals, a few hundreds; four sectors; 26 regions) and the records
the ingest service would write for them (pseudonymised, serialised SignalEventV1)."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.vocabulary import Sector
from contracts.vocabulary_v2 import SectorV2
from privacy.actors import Publisher
from privacy.identifier_keys import IdentifierKeyring
from privacy.pseudonyms import Pseudonymiser, PseudonymKeyring
from services.signals.identifiers import IdentifierOpener
from services.signals.publisher import serialise
from services.signals.schemas import SignalSubmission, to_event
from testkit.synthetic import PUBLISHING_SECTORS, SyntheticHousehold, SyntheticPopulation

SEED = 20261120
SHUFFLE_WINDOW = 10_000  # signals of one household arrive spread over time, not in a row
ORGANISATIONS = {
    Sector.POLICE: "politie-bench",
    Sector.EDUCATION: "school-bench",
    Sector.MENTAL_HEALTH: "ggz-bench",
    Sector.VEILIG_THUIS: "vt-bench",
}


@dataclass(frozen=True)
class Submission:
    """One signal as a publisher of the given sector would send it."""

    sector: Sector
    body: dict[str, Any]

    @property
    def event_id(self) -> str:
        return str(self.body["event_id"])


def publisher(sector: Sector) -> Publisher:
    return Publisher(f"sys-{ORGANISATIONS[sector]}", ORGANISATIONS[sector], SectorV2(sector))


def submissions(count: int, seed: int = SEED, now: datetime | None = None) -> Iterator[Submission]:
    """`count` signals about a skewed population, shuffled within windows of arrival."""
    population = SyntheticPopulation(seed)
    shuffle = random.Random(seed + 1)
    now = now or datetime.now(UTC)
    window: list[Submission] = []
    produced = 0
    while produced < count:
        household = population.household()
        for _ in range(population.signals_per_household()):
            if produced == count:
                break
            window.append(_signal(population, household, now))
            produced += 1
        if len(window) >= SHUFFLE_WINDOW or produced == count:
            shuffle.shuffle(window)
            yield from window
            window = []


def busy_household(
    signals: int, sectors: Sequence[Sector] = PUBLISHING_SECTORS, seed: int = SEED
) -> list[Submission]:
    """One household with exactly `signals` signals from the given sectors (the query
    stage's subject: a purpose shows only some sectors)."""
    population = SyntheticPopulation(seed + 2)
    household = population.household()
    now = datetime.now(UTC)
    return [_signal(population, household, now, sectors) for _ in range(signals)]


def _signal(
    population: SyntheticPopulation,
    household: SyntheticHousehold,
    now: datetime,
    sectors: Sequence[Sector] = PUBLISHING_SECTORS,
) -> Submission:
    sector = population.rng.choice(sectors)
    return Submission(sector, population.signal(household, sector, now))


class Recorder:
    """Turns submissions into the records the ingest service would publish."""

    def __init__(self, keys_dir: Path) -> None:
        self.pseudonymiser = Pseudonymiser(
            PseudonymKeyring.load_or_create(keys_dir / "pseudonym-keys.json")
        )
        self._publishers = {sector: publisher(sector) for sector in ORGANISATIONS}
        self._opener = IdentifierOpener(IdentifierKeyring.load_or_create(keys_dir), True)

    def event(self, submission: Submission, received_at: datetime | None = None) -> Any:
        signal = SignalSubmission.model_validate(submission.body)
        identifiers = self._opener.identifiers(signal)
        if isinstance(identifiers, list):
            raise ValueError(f"synthetic submission refused: {identifiers}")
        return to_event(
            signal,
            identifiers,
            self._publishers[submission.sector],
            self.pseudonymiser,
            received_at or datetime.now(UTC),
        )

    def record(self, submission: Submission) -> tuple[bytes, bytes]:
        event = self.event(submission)
        return event.household.encode(), serialise(event)
