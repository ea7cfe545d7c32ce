"""The 26 Veilig Thuis regions, by code. Which municipality belongs to which region is the
radar's own registry (domain data); the contract only fixes the codes publishers may use."""

from __future__ import annotations

from enum import StrEnum


class VtRegion(StrEnum):
    """A Veilig Thuis region, coded VT01..VT26 from north-east to south."""

    VT01 = "VT01"
    VT02 = "VT02"
    VT03 = "VT03"
    VT04 = "VT04"
    VT05 = "VT05"
    VT06 = "VT06"
    VT07 = "VT07"
    VT08 = "VT08"
    VT09 = "VT09"
    VT10 = "VT10"
    VT11 = "VT11"
    VT12 = "VT12"
    VT13 = "VT13"
    VT14 = "VT14"
    VT15 = "VT15"
    VT16 = "VT16"
    VT17 = "VT17"
    VT18 = "VT18"
    VT19 = "VT19"
    VT20 = "VT20"
    VT21 = "VT21"
    VT22 = "VT22"
    VT23 = "VT23"
    VT24 = "VT24"
    VT25 = "VT25"
    VT26 = "VT26"


REGION_NAMES: dict[VtRegion, str] = {
    VtRegion.VT01: "Groningen",
    VtRegion.VT02: "Fryslân",
    VtRegion.VT03: "Drenthe",
    VtRegion.VT04: "IJsselland",
    VtRegion.VT05: "Twente",
    VtRegion.VT06: "Noord- en Oost-Gelderland",
    VtRegion.VT07: "Gelderland-Midden",
    VtRegion.VT08: "Gelderland-Zuid",
    VtRegion.VT09: "Utrecht",
    VtRegion.VT10: "Hollands Noorden",
    VtRegion.VT11: "Zaanstreek-Waterland",
    VtRegion.VT12: "Kennemerland",
    VtRegion.VT13: "Amsterdam-Amstelland",
    VtRegion.VT14: "Gooi en Vechtstreek",
    VtRegion.VT15: "Flevoland",
    VtRegion.VT16: "Haaglanden",
    VtRegion.VT17: "Hollands Midden",
    VtRegion.VT18: "Rotterdam Rijnmond",
    VtRegion.VT19: "Zuid-Holland-Zuid",
    VtRegion.VT20: "Zeeland",
    VtRegion.VT21: "West-Brabant",
    VtRegion.VT22: "Hart van Brabant",
    VtRegion.VT23: "Brabant Noordoost",
    VtRegion.VT24: "Brabant Zuidoost",
    VtRegion.VT25: "Limburg-Noord",
    VtRegion.VT26: "Zuid-Limburg",
}
