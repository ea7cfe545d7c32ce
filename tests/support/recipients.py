"""What the recipient-extract tests share: a recipient register of two recipients written to a
test's directory, and signals about synthetic households and people, pseudonymised as ingest
does (the keyring is fixed, so the pseudonyms are too)."""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from contracts.bsn import synthetic_bsn
from contracts.vocabulary import SIGNAL_TYPES, Sector
from privacy.addresses import HomeAddress
from privacy.pseudonyms import Pseudonymiser, PseudonymKeyring
from privacy.recipients import RecipientRegister
from radar.timeline import TimelineEntry

RESEARCH, INSPECTION = "wodc-research", "inspectie-jenv"
MARCH = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TEST_REGISTER = f"""
version = 3

[recipients.{RESEARCH}]
description = "Research."
legal_basis = "AVG art. 89"
fields = ["signal_type", "sector", "severity", "occurred_month", "region", "household", "persons"]
sectors = ["police", "education", "veilig_thuis", "youth_care"]
min_records = 2

[recipients.{INSPECTION}]
description = "Supervision."
legal_basis = "Wmo 2015 art. 6.1"
fields = ["signal_type", "occurred_month", "household"]
sectors = ["police", "veilig_thuis"]
min_records = 1
"""
KEYRING = PseudonymKeyring(current="k1", keys={"k1": bytes(range(32, 64))})


def write_register(tmp_path: Path) -> RecipientRegister:
    """TEST_REGISTER as the test's recipients.toml, loaded."""
    path = tmp_path / "recipients.toml"
    path.write_text(TEST_REGISTER, encoding="utf-8")
    return RecipientRegister.load(path)


def people_and_signals(count: int, keyring: PseudonymKeyring = KEYRING) -> list[TimelineEntry]:
    """Signals about synthetic households and people (elfproef-valid BSNs, made-up addresses),
    pseudonymised the way ingest does; from every sector in turn."""
    rng = random.Random(count)
    pseudonymiser = Pseudonymiser(keyring)
    homes = [HomeAddress.normalised(f"{rng.randint(1000, 9999)}AB", n) for n in range(1, 6)]
    signals = []
    sectors = list(Sector)
    for number in range(count):
        home = homes[number % len(homes)]
        sector = sectors[number % len(sectors)]
        kind = next(k for k, d in SIGNAL_TYPES.items() if sector in d.sectors)
        moment = MARCH + timedelta(hours=number)
        people = [synthetic_bsn(random.Random(f"{home.canonical()}|{i}")) for i in range(2)]
        signals.append(
            TimelineEntry(
                position=number + 1,
                household=pseudonymiser.household(home),
                signal_id=uuid.UUID(int=rng.getrandbits(128)),
                organisation=f"org-{sector}".replace("_", "-"),
                sector=str(sector),
                signal_type=str(kind),
                severity="high",
                occurred_at=moment,
                reported_at=moment,
                received_at=moment,
                region="VT09",
                persons=(
                    (pseudonymiser.person(people[0]), "parent_or_carer"),
                    (pseudonymiser.person(people[1]), "child"),
                ),
            )
        )
    return signals


def moved_to(signal: TimelineEntry, moment: datetime) -> TimelineEntry:
    """The same signal, occurred at `moment`, under a signal id of its own."""
    return replace(signal, occurred_at=moment, signal_id=uuid.uuid4())
