"""A radar on a real database for the radar room's tests: the ledger, its read models, and
signals written the way a VT analyst would tell the story; and the query API over it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from contracts.signal_v1 import SignalEventV1
from contracts.vocabulary import SIGNAL_TYPES, SignalType
from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience, TokenAuthority
from privacy.storage.access_log import AccessLog
from radar.alerts import StaffRef
from radar.household import Household
from services import bootstrap
from services.casework.monitoring_store import SafetyStore
from services.casework.store import WorklistStore
from services.database import Database
from services.ledger.application import BatchOutcome, SignalBatch, SignalLedger
from services.ledger.store import open_ledger
from services.projections.projector import Projector
from services.settings import Settings
from services.timelines.store import TimelineStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SOURCE = "kafka:radar-test:0"
FAMILY = "hh.k1." + "f" * 32
OTHER_FAMILY = "hh.k1." + "e" * 32
MOTHER = "p.k1." + "1" * 32
CHILD = "p.k1." + "2" * 32
SECOND_CHILD = "p.k1." + "3" * 32
TRIAGE_UTRECHT = StaffRef("a.jansen", "vt-utrecht", "triage", "VT09")
TRIAGE_AMSTERDAM = StaffRef("b.devries", "vt-amsterdam-amstelland", "triage", "VT13")
MONITORING_UTRECHT = StaffRef("c.bakker", "vt-utrecht", "monitoring", "VT09")

_ORGANISATIONS = {
    "police": "politie-midden-nederland",
    "education": "obs-de-regenboog",
    "mental_health": "ggz-centraal",
    "healthcare": "huisartsen-utrecht",
    "youth_care": "jeugdbescherming-utrecht",
    "veilig_thuis": "vt-utrecht",
}


def signal(
    kind: str,
    occurred_at: datetime,
    *,
    region: str = "VT09",
    severity: str = "high",
    household: str = FAMILY,
    children: Sequence[str] = (CHILD,),
    adults: Sequence[str] = (MOTHER,),
    received_at: datetime | None = None,
    sector: str | None = None,
) -> SignalEventV1:
    """A signal as the ingest service publishes it, received an hour after it happened."""
    allowed = {str(s) for s in SIGNAL_TYPES[SignalType(kind)].sectors}
    chosen = sector or next(s for s in _ORGANISATIONS if s in allowed)
    received = received_at or occurred_at + timedelta(hours=1)
    persons = [{"pseudonym": p, "role": "parent_or_carer"} for p in adults]
    persons += [{"pseudonym": p, "role": "child"} for p in children]
    return SignalEventV1.model_validate(
        {
            "event_id": uuid.uuid4(),
            "organisation": _ORGANISATIONS[chosen],
            "sector": chosen,
            "signal_type": kind,
            "severity": severity,
            "occurred_at": occurred_at,
            "reported_at": occurred_at,
            "received_at": received,
            "region": region,
            "household": household,
            "persons": persons,
            "pseudonym_key_id": "k1",
        }
    )


def another_signal_like(
    ledger: SignalLedger, household: str, occurred_at: datetime, received_at: datetime
) -> SignalEventV1:
    """A new signal about a household of a stored ledger (a fixture store), from the
    organisation of its first recorded signal, reported an hour before it was received."""
    template = next(
        event
        for _id, event in ledger.notifications.all_readable([get_topic(Household.SignalRecorded)])
        if event.household == household
    )
    return SignalEventV1(
        event_id=uuid.uuid4(),
        organisation=template.organisation,
        sector=template.sector,
        signal_type=template.signal_type,
        severity="moderate",
        occurred_at=occurred_at,
        reported_at=received_at - timedelta(hours=1),
        received_at=received_at,
        region=template.region,
        household=household,
        pseudonym_key_id=template.pseudonym_key_id,
    )


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


@dataclass
class Radar:
    """The ledger and the radar's read models on one database, kept up to date on demand."""

    database: Database
    ledger: SignalLedger = field(init=False)
    worklist: WorklistStore = field(init=False)
    monitoring: SafetyStore = field(init=False)
    timelines: TimelineStore = field(init=False)

    def __post_init__(self) -> None:
        self.ledger = open_ledger(self.database)
        engine = self.database.engine()
        sealer = self.database.row_sealer(engine)  # one database, one set of row keys
        self.worklist = WorklistStore(engine, sealer)
        self.monitoring = SafetyStore(engine, sealer)
        self.timelines = TimelineStore(engine, sealer)

    def record(self, *signals: SignalEventV1) -> BatchOutcome:
        """Records the signals as one batch from the signals topic, then projects."""
        stored = self.ledger.position(SOURCE)
        offset = 0 if stored is None else stored + 1
        outcome = self.ledger.record_batch(SignalBatch(list(signals)), Tracking(SOURCE, offset))
        self.project()
        return outcome

    def project(self) -> None:
        for model in (self.worklist, self.monitoring, self.timelines):
            Projector(self.ledger, model, batch_size=7).catch_up()

    def open_alerts(self, region: str) -> list[Any]:
        self.project()
        return self.worklist.open_alerts(region)

    def events(self, topic_of: Any) -> list[Any]:
        """Every stored event of one type still readable (not erased), in store order."""
        topic = get_topic(topic_of)
        return [event for _id, event in self.ledger.notifications.all_readable([topic])]

    def close(self) -> None:
        self.ledger.close()
        self.worklist.engine.dispose()


@dataclass
class Harness:
    """The query API over a Radar, with tokens for analysts of any role and region."""

    client: TestClient
    radar: Radar
    authority: TokenAuthority
    log: AccessLog

    def headers(self, role: AnalystRole, region: str = "VT09", subject: str = "a.jansen") -> Any:
        analyst = Analyst(subject, f"vt-{region.lower()}", role, region)  # type: ignore[arg-type]
        token = self.authority.issue(analyst, Audience.QUERY, timedelta(hours=1))
        return {"Authorization": f"Bearer {token}"}

    def get(self, path: str, role: AnalystRole = AnalystRole.TRIAGE, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(role, **kw.pop("as_", {})), **kw)

    def post(
        self,
        path: str,
        body: dict[str, Any],
        role: AnalystRole = AnalystRole.TRIAGE,
        region: str = "VT09",
    ) -> Any:
        return self.client.post(path, json=body, headers=self.headers(role, region))

    def entries_after(self, count: int) -> list[dict[str, Any]]:
        return [e.payload for e in self.log.entries()[count:] if e.kind == "access"]


def radar_query_harness(
    tmp_path: Path, database: Database, clock: Callable[[], datetime] | None = None
) -> Iterator[Harness]:
    """The query API, as the composition root builds it, over a Radar on `database`; its now
    is `clock`'s (default: the system clock)."""
    settings = Settings(data_dir=tmp_path / "data", database_url=database.url)
    radar = Radar(database)
    engine = database.engine()
    log = database.access_log(engine)
    app = bootstrap.query_app(settings, clock)
    with TestClient(app) as client:
        yield Harness(client, radar, TokenAuthority(settings.keys_dir), log)
    radar.close()
    engine.dispose()
