"""The region registry, and which Veilig Thuis region is responsible for a household.

Veilig Thuis works for the households living in its municipalities, so the responsible region
follows the household's current municipality. The registry (municipality -> region) is data:
radar/municipalities.csv, read once. Signals carry only the region their publisher reports to,
not the municipality, so the household's region is inferred from its history (see
`responsible_region`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from contracts.regions import REGION_NAMES, VtRegion

MUNICIPALITIES_FILE = Path(__file__).with_name("municipalities.csv")


@dataclass(frozen=True)
class Municipality:
    """A municipality (gemeente) by its CBS code, and the VT region responsible for it."""

    code: str  # GMxxxx
    name: str
    region: VtRegion


class UnknownMunicipalityError(ValueError):
    """The name or code is not in the registry."""


class RegionRegistry:
    """The 26 VT regions and the municipalities each is responsible for."""

    def __init__(self, municipalities: Iterable[Municipality]) -> None:
        self._by_key: dict[str, Municipality] = {}
        for municipality in municipalities:
            for key in (municipality.code, municipality.name):
                normalised = _key(key)
                if normalised in self._by_key:
                    raise ValueError(f"municipality listed twice: {key}")
                self._by_key[normalised] = municipality
        self.municipalities = sorted(
            {m.code: m for m in self._by_key.values()}.values(), key=lambda m: m.code
        )
        empty = set(VtRegion) - {m.region for m in self.municipalities}
        if empty:
            raise ValueError(f"regions without municipalities: {sorted(empty)}")

    @classmethod
    def load(cls, path: Path = MUNICIPALITIES_FILE) -> RegionRegistry:
        """Reads the registry file: `code,name,region` lines, `#` starts a comment line."""
        with path.open(encoding="utf-8") as handle:
            lines = [line for line in handle if not line.startswith("#")]
        rows = csv.DictReader(lines)
        return cls(Municipality(row["code"], row["name"], VtRegion(row["region"])) for row in rows)

    def municipality(self, name_or_code: str) -> Municipality:
        """A municipality by CBS code (GM0363) or name (Amsterdam, 's-Hertogenbosch)."""
        found = self._by_key.get(_key(name_or_code))
        if found is None:
            raise UnknownMunicipalityError(f"unknown municipality: {name_or_code!r}")
        return found

    def region_of(self, name_or_code: str) -> VtRegion:
        return self.municipality(name_or_code).region

    def municipalities_of(self, region: VtRegion) -> list[Municipality]:
        return [m for m in self.municipalities if m.region == region]

    @staticmethod
    def region_name(region: VtRegion) -> str:
        return REGION_NAMES[region]


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


@cache
def registry() -> RegionRegistry:
    """The registry shipped with the radar."""
    return RegionRegistry.load()


@dataclass(frozen=True)
class RegionEvidence:
    """Something that tells where a household lives, and from when: a signal (the region its
    publisher reports to) or a move an analyst recorded (the new municipality's region)."""

    region: str
    moment: datetime
    is_recorded_move: bool


def responsible_region(evidence: Iterable[RegionEvidence]) -> str | None:
    """The region responsible for a household: that of its most recent evidence.

    Most recent means latest in time, not latest to arrive: a signal about an old incident that
    arrives late does not move the household back. On the same moment, a move recorded by an
    analyst outranks a signal.
    """
    latest: RegionEvidence | None = None
    for item in evidence:
        if latest is None or (item.moment, item.is_recorded_move) >= (
            latest.moment,
            latest.is_recorded_move,
        ):
            latest = item
    return None if latest is None else latest.region
