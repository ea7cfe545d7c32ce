"""The simulated signals as the parties submit them: signal.v2 submissions about invented
people (BSNs passing the elfproef, drawn from the world's seed; postcodes made from the
household's number), each party publishing under an organisation of its own."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from contracts.bsn import synthetic_bsn
from contracts.vocabulary_v2 import SectorV2
from privacy.actors import Publisher
from privacy.addresses import HomeAddress
from radar.simulation.world import SimHousehold, SimSignal, World

LETTERS = "ABCDEHJKLMNPRTVWXZ"  # postcode letters (SA, SD and SS are never issued: no S)
POSTCODE_NUMBERS = 9000  # 1000-9999
HOUSE_NUMBERS = 400
WORKING_HOURS = 16.0  # an incident's time of day lies in the first 16 hours
PUBLISHED_AT = time(17, 0, tzinfo=UTC)  # parties publish at the end of their working day


@dataclass(frozen=True)
class Identity:
    """A simulated household's address and its members' BSNs with their v2 roles and ages."""

    postcode: str
    house_number: int
    persons: tuple[dict[str, Any], ...]

    def address(self) -> HomeAddress:
        return HomeAddress.normalised(self.postcode, self.house_number)


def identities(world: World) -> dict[int, Identity]:
    """One identity per household, the same for the same world."""
    rng = random.Random(f"yardstick-identities:{world.seed}")
    return {h.index: _identity(rng, h) for h in world.households}


def _identity(rng: random.Random, household: SimHousehold) -> Identity:
    n = household.index
    letters = f"{LETTERS[(n // POSTCODE_NUMBERS) % len(LETTERS)]}{LETTERS[n % len(LETTERS)]}"
    adult_roles = ["parent_or_carer", "partner"] if household.adults == 2 else ["parent_or_carer"]
    persons: list[dict[str, Any]] = [
        {"bsn": synthetic_bsn(rng), "roles": adult_roles} for _ in range(household.adults)
    ]
    persons += [
        {"bsn": synthetic_bsn(rng), "roles": ["child"], "age": age} for age in household.child_ages
    ]
    return Identity(
        f"{1000 + n % POSTCODE_NUMBERS}{letters}", 1 + n % HOUSE_NUMBERS, tuple(persons)
    )


def publisher(world: World, party: str) -> Publisher:
    sector = world.parameters.parties[party].sector
    return Publisher(f"yardstick-{party}", f"yardstick-{party}", SectorV2(sector))


def received_at(start: date, day: int) -> datetime:
    """When a signal published on simulated `day` reaches the radar."""
    return datetime.combine(start + timedelta(days=day), PUBLISHED_AT)


def moment(start: date, day: float) -> datetime:
    """A simulated day as a moment: the day's date, its fraction within working hours."""
    whole = int(day)
    hours = (day - whole) * WORKING_HOURS
    return datetime.combine(start + timedelta(days=whole), time(0, tzinfo=UTC)) + timedelta(
        hours=hours
    )


def day_of(start: date, at: datetime) -> float:
    """A recorded moment as a simulated day (a fraction of 24 hours)."""
    origin = datetime.combine(start, time(0, tzinfo=UTC))
    return (at - origin).total_seconds() / timedelta(days=1).total_seconds()


def submission(world: World, signal: SimSignal, identity: Identity) -> dict[str, Any]:
    """The v2 submission a party sends for the signal (its event id from the world's seed)."""
    start = world.parameters.start
    return {
        "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"yardstick:{world.seed}:{signal.index}")),
        "signal_type": signal.signal_type,
        "severity": signal.severity,
        "forms_of_violence": list(signal.forms),
        "occurred_at": moment(start, signal.occurred_day).isoformat(),
        "region": signal.region,
        "household": {"postcode": identity.postcode, "house_number": identity.house_number},
        "persons": [dict(p) for p in identity.persons],
    }
