"""Reporter protection in the inzage (issue 17): a reporter Veilig Thuis protected is named to
the household nowhere, and the export says that a source was withheld and on what ground.

VT protects a publishing organisation within a household (radar/household_findings.py,
ReporterProtected). For every signal of that organisation at that household the export leaves
out the organisation, the sector and the signal type (a type such as school_absence names the
sector, and so the reporter, by itself), and the publisher's free text (correction reasons),
which could name them; the signal itself stays listed, with its date, severity and the person's
role, so the person still learns that it is held (AVG art. 15 is limited, not set aside). An
access by the protected organisation (a school asking who leads) has its organisation left out
too. The protections are in the event store only, so they are read from there, like the
corrections' reasons (services/rights/rectifications.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import get_topic

from radar.household_findings import ReporterProtected
from services.ledger.notifications import NotificationLog

GROUND = (
    "AVG art. 23 lid 1 sub i en UAVG art. 41 lid 1 sub i: bescherming van de rechten en "
    "vrijheden van anderen (de melder); Veilig Thuis maakt de identiteit van een melder niet "
    "bekend (Wmo 2015 art. 4.1.1 en art. 5.2.6, Jeugdwet art. 7.3.11; artikelleden te "
    "bevestigen door de FG)"
)
"""The legal ground the export states for a withheld source; the privacy officer (FG) must
confirm the articles and paragraphs before the first export that uses it."""
EXPLANATION = (
    "Van een of meer signalen over u is de bron afgeschermd: Veilig Thuis beschermt de melder. "
    "U ziet dat het signaal er is, wanneer het was en hoe ernstig, maar niet wie het meldde, uit "
    "welke sector of wat voor soort melding het was."
)
WITHHELD_SIGNAL_KEYS = ("organisation", "sector", "signal_type")


@dataclass(frozen=True)
class Protections:
    """The (household, organisation) pairs whose reporter Veilig Thuis protects."""

    sources: frozenset[tuple[str, str]] = frozenset()

    def withholds(self, household: str, organisation: str | None) -> bool:
        return (household, organisation or "") in self.sources

    @property
    def organisations(self) -> frozenset[str]:
        return frozenset(organisation for _household, organisation in self.sources)

    def signal(self, record: dict[str, Any]) -> dict[str, Any]:
        """A signal's (or withdrawn signal's) record as the household may see it."""
        if not self.withholds(record["household"], record.get("organisation")):
            return record
        shielded = {**record, **dict.fromkeys(WITHHELD_SIGNAL_KEYS), "source_withheld": True}
        if "correction_reasons" in shielded:
            shielded["correction_reasons"] = []
        return shielded

    def access(self, record: dict[str, Any]) -> dict[str, Any]:
        """An access-log entry as the household may see it: not by a protected organisation."""
        actor = record["actor"]
        if actor.get("organisation") not in self.organisations:
            return record
        return {**record, "actor": {**actor, "organisation": None}, "actor_withheld": True}

    def withheld(self, signals: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
        """What the export says of the withheld sources: how many signals, and the ground."""
        count = sum(1 for s in signals if s.get("source_withheld"))
        if not count:
            return None
        return {"signals": count, "ground": GROUND, "explanation": EXPLANATION}


def protections(notifications: NotificationLog | None, households: Iterable[str]) -> Protections:
    """The protections recorded at these households (none without an event store)."""
    if notifications is None:
        return Protections()
    wanted = set(households)
    found = {
        (event.household, event.organisation)
        for _position, event in notifications.all_readable([get_topic(ReporterProtected)])
        if event.household in wanted
    }
    return Protections(frozenset(found))
