"""The byte scan of issue 17: every feed page, every webhook body a receiver got and every
dead letter (and each delivery's access-log entry, and the logs), for the identifiers of the
synthetic people the radar was fed, and every item's body held to the fields its feed declares
(what the receiving purpose may see).

Generic over `bootstrap.feed_sources()`: each read model that serves a feed is covered as it
lands. The people go in through the real pipeline (the ingest API with plain identifiers, the
broker, the aggregator, the event store, the projectors); each feed is read through the gate by
every organisation that could be its recipient (each publisher, and every value of a
`recipient` or `organisation` column the database holds), in a role and under a purpose the
register grants its resource, and pushed to a local receiver that refuses the first deliveries
until they are dead letters. The test feed of tests/support/feed_table.py rides along, so the
webhook path and the dead letters are scanned even where no radar feed has items yet."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from contracts.regions import VtRegion
from contracts.vocabulary_v2 import SectorV2
from privacy.actors import Analyst, AnalystRole, Publisher
from privacy.addresses import HomeAddress
from privacy.credentials import Audience, TokenAuthority
from privacy.purposes import PurposeRegister
from services import bootstrap
from services.database import Database
from services.delivery.signing import Signing
from services.delivery.tables import dead_letters
from services.feeds.items import FeedSource
from services.ledger.store import open_ledger
from services.projections.projector import Projector
from services.settings import Settings
from tests.support.feeds import SECRET, FeedHarness, feed_harness
from tests.support.ingest import bearer_for, ingest_client
from tests.support.inspection import files_bytes, identifiers_found, recorded_signals
from tests.support.webhook_receiver import receiving

MAX_POLLS = 200  # a bound on the aggregator's polls, not a time
PAGE = 100


@dataclass(frozen=True)
class Person:
    """A synthetic person: everything the radar must never pass on."""

    bsn: str
    name: str
    birth_date: date
    roles: tuple[str, ...]

    def age(self, on: date) -> int:
        born = self.birth_date
        return on.year - born.year - ((on.month, on.day) < (born.month, born.day))

    def identifiers(self) -> list[str]:
        born = self.birth_date
        return [self.bsn, self.name, born.isoformat(), f"{born:%d-%m-%Y}", f"{born:%d%m%Y}"]


PARENT = Person("111222333", "Yfke Brouwersma", date(1988, 4, 17), ("parent_or_carer",))
PUPIL = Person("123456782", "Teun Haaksbergen", date(2016, 9, 3), ("child", "victim"))
TEEN = Person("999999990", "Noor Wiersema", date(2010, 1, 28), ("child",))
SUSPECT = Person("908301662", "Kees Abbenbroek", date(1985, 11, 9), ("suspected_perpetrator",))
ADDRESS = {"postcode": "3511 AB", "house_number": 12, "addition": "bis"}

PUBLISHERS = {
    SectorV2.POLICE: (
        "politie-midden-nederland",
        ["incident_with_children_present", "zorgmelding"],
    ),
    SectorV2.EDUCATION: ("obs-de-regenboog", ["school_absence"]),
    SectorV2.MENTAL_HEALTH: ("ggz-centraal", ["kindcheck_concern"]),
    SectorV2.VEILIG_THUIS: ("vt-utrecht", ["vt_report"]),
    SectorV2.PUBLIC_PROSECUTION: ("om-midden-nederland", ["prosecution_decision"]),
}


def _identifiers() -> list[str]:
    people = [PARENT, PUPIL, TEEN, SUSPECT]
    postcode = ADDRESS["postcode"]
    normalised = HomeAddress.normalised(str(postcode), 12).postcode
    return [i for p in people for i in p.identifiers()] + [str(postcode), normalised]


def _signal(kind: str, days_ago: int) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "event_id": str(uuid.uuid4()),
        "signal_type": kind,
        "severity": "high",
        "occurred_at": (datetime.now(UTC) - timedelta(days=days_ago, hours=3)).isoformat(),
        "region": "VT09",
        "household": ADDRESS,
        "persons": [
            {"bsn": p.bsn, "roles": list(p.roles), "age": p.age(today)}
            for p in (PARENT, PUPIL, TEEN, SUSPECT)
        ],
    }


def _publish(settings: Settings) -> int:
    """Every publisher's signals about the family through the ingest API; how many."""
    authority = TokenAuthority(settings.keys_dir)
    sent = 0
    with ingest_client(settings) as client:
        for days_ago, (sector, (organisation, kinds)) in enumerate(PUBLISHERS.items()):
            publisher = Publisher(f"sys-{organisation}", organisation, sector)
            headers = bearer_for(authority, publisher, Audience.INGEST)
            signals = [_signal(kind, 5 - days_ago) for kind in kinds]
            answer = client.post("/v2/signals/batch", json={"signals": signals}, headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.json()["accepted"] == len(signals), answer.text
            sent += len(signals)
    return sent


def _record_and_project(settings: Settings, database: Database, sent: int) -> None:
    """The aggregator until the store holds every signal, then every read model caught up."""
    aggregator = bootstrap.aggregator(settings)
    try:
        for _ in range(MAX_POLLS):
            if sum(sum(c.values()) for c in recorded_signals(database).values()) >= sent:
                break
            aggregator.poll_once(timeout_ms=200)
        else:
            raise AssertionError(f"the aggregator did not record {sent} signals")
    finally:
        aggregator._consumer.close(autocommit=False)

    ledger = open_ledger(database)
    try:
        for model in bootstrap.read_models(database):
            Projector(ledger, model, 1000).catch_up()
    finally:
        ledger.close()


def _recipients(harness: FeedHarness) -> set[str]:
    """Every organisation that could be a feed's recipient: the publishers, and each value of
    a `recipient` or `organisation` column anywhere in the database."""
    found = {organisation for organisation, _ in PUBLISHERS.values()}
    engine = harness.feed.engine
    for table in inspect(engine).get_table_names():
        for column in inspect(engine).get_columns(table):
            if column["name"] not in ("recipient", "organisation"):
                continue
            query = text(f'select distinct "{column["name"]}" from "{table}"')  # noqa: S608
            try:
                with engine.connect() as connection:
                    values = connection.execute(query).scalars().all()
            except SQLAlchemyError:
                continue
            found |= {v for v in values if isinstance(v, str) and 0 < len(v) <= 64}
    return found


def _grant(register: PurposeRegister, source: FeedSource) -> tuple[str, AnalystRole]:
    """A purpose and a role the register grants the source's resource to."""
    for name, purpose in sorted(register.purposes.items()):
        if source.resource in purpose.resources and purpose.roles:
            return name, sorted(purpose.roles)[0]
    raise AssertionError(f"no purpose grants {source.resource} (feed {source.kind})")


def _read_pages(
    harness: FeedHarness, source: FeedSource, recipient: str, purpose: str, role: AnalystRole
) -> list[bytes]:
    pages, after = [], 0
    while True:
        answer = harness.client.get(
            f"/v1/feeds/{source.kind}",
            params={"purpose": purpose, "after": after, "limit": PAGE},
            headers=harness.headers(recipient, role),
        )
        assert answer.status_code == 200, (source.kind, recipient, answer.text)
        pages.append(answer.content)
        body = answer.json()
        for item in body["items"]:
            beyond = set(item["body"]) - source.fields
            assert not beyond, f"feed {source.kind} item carries {sorted(beyond)}"
        if not body["more"]:
            return pages
        after = body["next_after"]


def test_no_feed_webhook_body_or_dead_letter_holds_an_identifier_or_an_unlisted_field(
    settings: Settings, database: Database, tmp_path: Path
) -> None:
    _record_and_project(settings, database, _publish(settings))
    sources = bootstrap.feed_sources(database)
    with (
        receiving(tmp_path / "receiver", SECRET.encode()) as receiver,
        feed_harness(tmp_path, database, receiver.ca, settings, sources) as harness,
    ):
        register = PurposeRegister.load(harness.settings.purpose_register)
        recipients = sorted(_recipients(harness))
        for recipient in recipients:
            made = harness.feed.add(recipient, {"status": "taken_on", "decided_on": "2026-12-01"})
            receiver.refused_ids.add(str(made.id))  # each becomes a dead letter, then replayed
        pages: list[bytes] = []
        for source in [harness.feed, *sources]:
            purpose, role = _grant(register, source)
            for recipient in recipients:
                pages += _read_pages(harness, source, recipient, purpose, role)
                actor = Analyst("c.de-vries", recipient, role, VtRegion("VT09"))
                harness.webhooks.register(
                    actor, source.kind, receiver.url, Signing.HMAC, SECRET, purpose
                )
        harness.turn_until_quiet(most=40)
        receiver.refused_ids.clear()
        store = harness.deliverer.store
        store.request_replay([letter.id for letter in store.dead_letters()])
        harness.turn_until_quiet()
        with harness.feed.engine.connect() as connection:
            letters = [
                str(row._asdict()).encode() for row in connection.execute(select(dead_letters))
            ]
        logged = [str(entry).encode() for entry in harness.exports()]  # each delivery's entry
    bodies = [r.body for r in receiver.received]
    assert len(letters) == len(recipients), "each refused item must be a dead letter"
    assert {r.id for r in receiver.taken()} >= {r.id for r in receiver.received}  # replayed
    for received in receiver.received:
        kind = received.document["kind"]
        fields = next(s.fields for s in [harness.feed, *sources] if s.kind == kind)
        assert set(received.document["body"]) <= fields, kind
    haystack = b"\n".join([*pages, *bodies, *letters, *logged, files_bytes(settings.data_dir)])
    assert identifiers_found(haystack, _identifiers()) == []
