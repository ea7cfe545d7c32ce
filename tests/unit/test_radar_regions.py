"""The region registry (municipality -> Veilig Thuis region, as data) and the rule that picks
the region responsible for a household from its history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contracts.regions import VtRegion
from radar.regions import (
    RegionEvidence,
    RegionRegistry,
    UnknownMunicipalityError,
    registry,
    responsible_region,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_every_municipality_of_2025_has_one_region_and_every_region_has_municipalities() -> None:
    found = registry()
    assert len(found.municipalities) == 342
    assert {m.region for m in found.municipalities} == set(VtRegion)
    assert len({m.code for m in found.municipalities}) == 342
    assert all(m.code.startswith("GM") and len(m.code) == 6 for m in found.municipalities)


@pytest.mark.parametrize(
    ("municipality", "region"),
    [
        ("Amsterdam", "VT13"),
        ("GM0363", "VT13"),
        ("'s-Hertogenbosch", "VT23"),
        ("tilburg", "VT22"),
        ("Breda", "VT21"),
        ("Voorne aan Zee", "VT18"),
        ("Súdwest-Fryslân", "VT02"),
        ("Almere", "VT15"),
        ("Maastricht", "VT26"),
        ("Venlo", "VT25"),
        ("Dijk en Waard", "VT10"),
        ("  Utrecht ", "VT09"),
        ("Nuenen, Gerwen en Nederwetten", "VT24"),
    ],
)
def test_municipalities_map_to_their_veilig_thuis_region(municipality: str, region: str) -> None:
    assert registry().region_of(municipality) == region


def test_merged_municipalities_are_gone_and_unknown_names_are_refused() -> None:
    for gone in ("Weesp", "Hellevoetsluis", "Westvoorne", "Brielle", "Heerhugowaard"):
        with pytest.raises(UnknownMunicipalityError):
            registry().municipality(gone)


def test_a_registry_with_a_region_left_empty_is_refused() -> None:
    some = registry().municipalities_of(VtRegion.VT09)
    with pytest.raises(ValueError, match="regions without municipalities"):
        RegionRegistry(some)


def test_the_latest_news_decides_the_region_and_a_recorded_move_outranks_a_signal() -> None:
    utrecht = RegionEvidence("VT09", T0, False)
    rotterdam_later = RegionEvidence("VT18", T0 + timedelta(days=30), False)
    late_report_of_old_incident = RegionEvidence("VT09", T0 + timedelta(days=10), False)
    assert responsible_region([]) is None
    assert responsible_region([utrecht]) == "VT09"
    assert responsible_region([utrecht, rotterdam_later, late_report_of_old_incident]) == "VT18"
    move_same_day = RegionEvidence("VT13", T0 + timedelta(days=30), True)
    assert responsible_region([rotterdam_later, move_same_day]) == "VT13"
    assert responsible_region([move_same_day, rotterdam_later]) == "VT13"
