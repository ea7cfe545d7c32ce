"""A seeded generator of synthetic signal submissions, realistic in shape, for tests, the demo
and the benchmarks. Every person is invented: BSNs are random numbers passing the elfproef,
addresses random postcodes. Most households get 1-3 signals, a few get hundreds."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.bsn import synthetic_bsn
from contracts.regions import VtRegion
from contracts.vocabulary import SIGNAL_TYPES, PersonRole, Sector, Severity, SignalType

PUBLISHING_SECTORS = (Sector.POLICE, Sector.EDUCATION, Sector.MENTAL_HEALTH, Sector.VEILIG_THUIS)


@dataclass(frozen=True)
class SyntheticHousehold:
    """An invented household: an address, a region and its members' BSNs."""

    postcode: str
    house_number: int
    region: VtRegion
    members: tuple[tuple[str, PersonRole], ...]

    def address(self) -> dict[str, Any]:
        return {"postcode": self.postcode, "house_number": self.house_number}


@dataclass
class SyntheticPopulation:
    """Households and signals drawn from one seed: the same seed gives the same data."""

    seed: int
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def household(self) -> SyntheticHousehold:
        rng = self.rng
        letters = "ABCDEHJKLMNPRSTVWXZ"
        postcode = f"{rng.randint(1000, 9999)}{rng.choice(letters)}{rng.choice(letters)}"
        adults = rng.randint(1, 2)
        children = rng.randint(0, 4)
        members = tuple(
            [(synthetic_bsn(rng), PersonRole.PARENT_OR_CARER) for _ in range(adults)]
            + [(synthetic_bsn(rng), PersonRole.CHILD) for _ in range(children)]
        )
        return SyntheticHousehold(
            postcode, rng.randint(1, 400), rng.choice(list(VtRegion)), members
        )

    def signals_per_household(self) -> int:
        """Skewed: mostly 1-3, sometimes tens, rarely hundreds."""
        draw = self.rng.random()
        if draw < 0.85:
            return self.rng.randint(1, 3)
        if draw < 0.99:
            return self.rng.randint(4, 30)
        return self.rng.randint(100, 300)

    def signal(
        self,
        household: SyntheticHousehold,
        sector: Sector | None = None,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """One submission about the household, from the given (or a random) sector."""
        rng = self.rng
        sector = sector or rng.choice(PUBLISHING_SECTORS)
        kinds = [kind for kind, d in SIGNAL_TYPES.items() if sector in d.sectors]
        moment = (now or datetime.now(UTC)) - timedelta(minutes=rng.randint(10, 60 * 24 * 365))
        persons = rng.sample(household.members, k=rng.randint(1, len(household.members)))
        return {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "signal_type": str(rng.choice(kinds)),
            "severity": str(rng.choice(list(Severity))),
            "occurred_at": moment.isoformat(),
            "region": str(household.region),
            "household": household.address(),
            "persons": [{"bsn": bsn, "role": str(role)} for bsn, role in persons],
        }


def sector_of(signal_type: str) -> Sector:
    """A sector allowed to publish this signal type (the first in a fixed order)."""
    allowed = SIGNAL_TYPES[SignalType(signal_type)].sectors
    return next(s for s in Sector if s in allowed)
