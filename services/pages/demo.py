"""A synthetic demo population for `make run`: households in Utrecht (VT09) and a few in
Amsterdam-Amstelland (VT13), their signals from police, schools, youth care, Veilig Thuis and
GGZ spread over eighteen months, published through the ingest API like any publisher's (with
identifiers sealed to the radar's key), so a new user sees a realistic worklist and charts.

Synthetic people only: BSNs are random numbers passing the elfproef (contracts/bsn.py),
postcodes random ones; the same seed makes the same population.
"""

from __future__ import annotations

import random
import string
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from contracts.bsn import synthetic_bsn
from contracts.vocabulary import SIGNAL_TYPES, PersonRole, Sector, Severity

DEMO_DAYS = 540
"""How far back the demo's signals go: long enough for decay to show in the charts."""
OTHER_REGION_SHARE = 5
"""Every fifth household lives in Amsterdam-Amstelland: a cross-region case to try."""
POSTCODE_LETTERS = "".join(c for c in string.ascii_uppercase if c not in "FIOQSUY")
"""Letters Dutch postcodes use (no SA, SD or SS can arise without S)."""
PUBLISHERS: dict[Sector, tuple[str, str]] = {
    Sector.POLICE: ("sys-politie", "politie-midden-nederland"),
    Sector.EDUCATION: ("sys-school", "obs-de-regenboog"),
    Sector.YOUTH_CARE: ("sys-jeugdzorg", "jeugdbescherming-utrecht"),
    Sector.VEILIG_THUIS: ("sys-vt", "vt-utrecht"),
    Sector.MENTAL_HEALTH: ("sys-ggz", "ggz-centraal"),
}
SECTOR_WEIGHTS = (5, 4, 2, 2, 1)
"""Police and schools see most; GGZ least (the order of PUBLISHERS)."""
SIGNALS_PER_HOUSEHOLD = (1, 1, 2, 2, 3, 4, 5)


@dataclass(frozen=True)
class DemoSignal:
    sector: Sector
    submission: dict[str, Any]


def _types(sector: Sector) -> list[str]:
    return sorted(str(t) for t, d in SIGNAL_TYPES.items() if sector in d.sectors)


def _household(rng: random.Random, index: int) -> dict[str, Any]:
    postcode = (
        f"{rng.randint(1000, 9999)} {rng.choice(POSTCODE_LETTERS)}{rng.choice(POSTCODE_LETTERS)}"
    )
    adults = [(synthetic_bsn(rng), PersonRole.PARENT_OR_CARER) for _ in range(rng.randint(1, 2))]
    children = [(synthetic_bsn(rng), PersonRole.CHILD) for _ in range(rng.randint(0, 3))]
    return {
        "region": "VT13" if index % OTHER_REGION_SHARE == OTHER_REGION_SHARE - 1 else "VT09",
        "household": {"postcode": postcode, "house_number": rng.randint(1, 250)},
        "persons": [{"bsn": bsn, "role": str(role)} for bsn, role in adults + children],
    }


def population(rng: random.Random, households: int, now: datetime) -> list[DemoSignal]:
    """The demo's signals, households one after another, each household's in time order."""
    sectors = list(PUBLISHERS)
    signals = []
    for index in range(households):
        family = _household(rng, index)
        days = sorted(rng.uniform(1, DEMO_DAYS) for _ in range(rng.choice(SIGNALS_PER_HOUSEHOLD)))
        for days_ago in reversed(days):
            [sector] = rng.choices(sectors, SECTOR_WEIGHTS)
            submission = {
                "event_id": str(uuid.uuid4()),
                "signal_type": rng.choice(_types(sector)),
                "severity": str(rng.choice([Severity.LOW, Severity.MODERATE, Severity.HIGH])),
                "occurred_at": (now - timedelta(days=days_ago)).isoformat(),
                **family,
            }
            signals.append(DemoSignal(sector, submission))
    return signals


def by_sector(signals: list[DemoSignal]) -> dict[Sector, list[dict[str, Any]]]:
    """Each publisher's share, in the population's order."""
    grouped: dict[Sector, list[dict[str, Any]]] = defaultdict(list)
    for signal in signals:
        grouped[signal.sector].append(signal.submission)
    return dict(grouped)
