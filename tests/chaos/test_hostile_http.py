"""Hostile HTTP (issue 8): both APIs fuzzed by schemathesis from their own OpenAPI documents, with
and without valid credentials, and hit on purpose with what an attacker or a broken client sends:
oversized and chunked bodies, deep nesting, wrong content types, invalid UTF-8, malformed JSON,
huge batches, forged, expired and replayed tokens.

Every answer must be a 4xx that names its reason (and the field, where there is one) or a 2xx
that the world confirms: a 2xx from the ingest API put exactly the accepted signals on the topic
(and nothing else ever reaches it), a 2xx from the query API was preceded by exactly one permit
in the access log for a purpose the analyst's role holds. Runs in-process on the real Kafka broker
and a real SQLite database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, func, select

from contracts.regions import VtRegion
from contracts.vocabulary import Sector
from privacy.actors import VT_ANALYST_ROLES, Analyst, AnalystRole, Publisher
from privacy.credentials import (
    ALGORITHM,
    ISSUER,
    Audience,
    TokenAuthority,
    key_id_of,
    token_id,
)
from privacy.disclosure import ALWAYS_WITH_THE_SIGNAL, MEMBERSHIP_FIELDS
from privacy.purposes import PurposeRegister, Resource
from privacy.storage.access_log import AccessLog, EntryKind, access_log
from privacy.storage.revocations import RevocationList
from services import bootstrap
from services.database import Database
from services.settings import Settings
from services.signals.store import ingest_receipts
from services.timelines.store import TimelineStore
from testkit.services import KAFKA_BOOTSTRAP
from testkit.synthetic import SyntheticPopulation
from tests.support.privacy_fixtures import (
    HOME_REGION,
    HOUSEHOLD,
    HOUSEHOLD_ELSEWHERE,
    seed_timelines,
)

if TYPE_CHECKING:
    from tests.chaos.conftest import FaultReport

pytestmark = [pytest.mark.chaos, pytest.mark.integration]

EXAMPLES = int(os.environ.get("RADAR_CHAOS_EXAMPLES", "20"))  # per operation and strategy
SEED = int(os.environ.get("RADAR_CHAOS_SEED", "20261129"))  # same cases every run unless told
PARTITIONS = 6
HOUR = timedelta(hours=1)
POLICE = Publisher("sys-politie", "politie-utrecht", Sector.POLICE)
TRIAGE = Analyst("a.jansen", "vt-utrecht", AnalystRole.TRIAGE, VtRegion(HOME_REGION))
REGISTER = PurposeRegister.load()
JUSTIFICATION = "Police report of acute danger tonight; earlier signals are needed now."
# Every schemathesis test checks these on every answer, the query tests included: a separate
# conformance test used to replay the query tests' seeded cases (same seed, same strategies, so
# the same requests) a second time for these checks alone, about half the file's run time.
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
REFUSAL_STATUSES = {401, 403, 404, 405, 409, 413, 415, 422}


def purposes_of(role: AnalystRole, resource: Resource) -> set[str]:
    return {
        name for name, p in REGISTER.purposes.items() if role in p.roles and resource in p.resources
    }


# ------------------------------------------------------------------------------ the world


@dataclass
class World:
    """One radar (settings, keys, database, topic) that every test in this file attacks."""

    settings: Settings
    authority: TokenAuthority
    engine: Engine
    consumer: KafkaConsumer
    partitions: list[TopicPartition]

    def records(self) -> int:
        """Records on the topic (fresh, written only by an idempotent producer)."""
        return sum(self.consumer.end_offsets(self.partitions).values())

    def receipts(self) -> int:
        with self.engine.connect() as connection:
            count = connection.execute(select(func.count()).select_from(ingest_receipts))
            return int(count.scalar_one())

    def log_head(self) -> int:
        with self.engine.connect() as connection:
            head = connection.execute(select(func.max(access_log.c.seq))).scalar_one()
            return int(head or 0)

    def log_after(self, seq: int) -> list[tuple[str, dict[str, Any]]]:
        """(kind, payload) of every access-log entry after `seq`, its subjects opened with
        the deployment's keys (they are stored sealed)."""
        return [(str(entry.kind), entry.payload) for entry in self.log.batch(seq, 100_000)]

    def decisions_after(self, seq: int) -> list[tuple[str, dict[str, Any]]]:
        """The gate's decisions after `seq`: every entry but the refusals at authentication
        (a 401 leaves an `auth_refused` entry and reaches no gate)."""
        refusals = {EntryKind.AUTH_REFUSED, EntryKind.AUTH_REFUSED_SUPPRESSED}
        return [(kind, p) for kind, p in self.log_after(seq) if kind not in refusals]

    @cached_property
    def log(self) -> AccessLog:
        return Database.of(self.settings).access_log(self.engine)

    def state(self) -> tuple[int, int]:
        """What the ingest side changed: (topic records, receipts)."""
        return self.records(), self.receipts()

    def token(self, actor: Publisher | Analyst, audience: Audience, life: timedelta = HOUR) -> str:
        return self.authority.issue(actor, audience, life)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, kafka_admin: KafkaAdminClient
) -> Iterator[World]:
    topic = f"chaos.hostile.{uuid.uuid4().hex[:12]}"
    kafka_admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
    root = tmp_path_factory.mktemp("hostile")
    settings = Settings(
        data_dir=root / "data",
        database_url=f"sqlite:///{root / 'radar.db'}",
        kafka_bootstrap=KAFKA_BOOTSTRAP,
        signals_topic=topic,
    )
    database = Database.of(settings)
    engine = database.engine()
    seed_timelines(TimelineStore(engine, database.row_sealer(engine)))
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer = KafkaConsumer(bootstrap_servers=KAFKA_BOOTSTRAP, group_id=None)
    consumer.assign(partitions)
    yield World(settings, TokenAuthority(settings.keys_dir), engine, consumer, partitions)
    consumer.close()
    engine.dispose()


@pytest.fixture(scope="module")
def apps(world: World) -> Iterator[dict[str, FastAPI]]:
    """One ingest and one query app for schemathesis (which runs their lifespans itself)."""
    yield {
        "ingest": bootstrap.ingest_app(world.settings),
        "query": bootstrap.query_app(world.settings),
    }
    shutdown_lifespans()  # closes the ingest app's producer


@pytest.fixture(scope="module")
def ingest(world: World) -> Iterator[TestClient]:
    with TestClient(bootstrap.ingest_app(world.settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def query(world: World) -> Iterator[TestClient]:
    with TestClient(bootstrap.query_app(world.settings), raise_server_exceptions=False) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --------------------------------------------------------------- schemathesis, in general


def operations(app: FastAPI) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    found = [result.ok() for result in schema.get_all_operations()]
    assert found, "the OpenAPI document lists no operations"
    return found


def secured(operation: schemathesis.APIOperation) -> bool:
    return bool(operation.definition.raw.get("security"))


def generated(operation: schemathesis.APIOperation) -> list[st.SearchStrategy[Any]]:
    """Schemathesis' own cases: valid by the schema, and (where there is input) invalid."""
    strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
    raw = operation.definition.raw
    if raw.get("parameters") or raw.get("requestBody") or raw.get("security"):
        strategies.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    return strategies


def negative(case: Any) -> bool:
    """Whether schemathesis made the case to violate the schema."""
    generation = getattr(case.meta, "generation", None)
    return generation is not None and generation.mode.is_negative


def fuzz(strategy: st.SearchStrategy[Any], check: Callable[[Any], None], scale: int = 1) -> int:
    """Runs `check` on up to `scale` x EXAMPLES cases drawn from `strategy`; the number run."""
    ran = 0

    @seed(SEED)
    @settings(
        max_examples=scale * EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        nonlocal ran
        ran += 1
        check(case)

    run()
    return ran


def assert_error_body(response: Any, what: str) -> dict[str, Any]:
    """A refusal's body names its reason, and every field error names field and reason."""
    body = response.json()
    assert isinstance(body.get("detail"), str) and body["detail"], f"{what}: {response.text}"
    for error in body.get("errors", []):
        assert error["reason"], f"{what}: {response.text}"
    return body  # type: ignore[no-any-return]


# --------------------------------------------------------------------- ingest: the bodies

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=24),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def signal_bodies(draw: st.DrawFn) -> dict[str, Any]:
    """Realistic submissions (police and other sectors), some intact, some with one field
    replaced, removed or added: reaches the acceptance, duplicate, conflict and refusal paths
    that a schema saying only `object` cannot."""
    population = SyntheticPopulation(seed=draw(st.integers(0, 40)))
    household = population.household()
    sector = draw(st.sampled_from([Sector.POLICE, Sector.POLICE, None]))
    signal = population.signal(household, sector)
    change = draw(st.sampled_from(["none", "none", "replace", "drop", "add", "person"]))
    key = draw(st.sampled_from(sorted(signal)))
    if change == "replace":
        signal[key] = draw(JSON_VALUES)
    elif change == "drop":
        del signal[key]
    elif change == "add":
        signal[draw(st.text(min_size=1, max_size=12))] = draw(JSON_VALUES)
    elif change == "person":
        signal["persons"] = [{"bsn": draw(st.from_regex(r"^[0-9]{9}$")), "role": "child"}]
    return signal


Strategies = list[tuple[st.SearchStrategy[Any], int]]  # each with its share of EXAMPLES


def ingest_strategies(operation: schemathesis.APIOperation) -> Strategies:
    strategies = [(s, 1) for s in generated(operation)]
    if operation.path == "/v1/signals":
        bodies = signal_bodies().flatmap(lambda body: operation.as_strategy(body=body))
        strategies.append((bodies, 2))
    if operation.path == "/v1/signals/batch":
        batches = st.lists(signal_bodies(), max_size=6).flatmap(
            lambda signals: operation.as_strategy(body={"signals": signals})
        )
        strategies.append((batches, 2))
    return strategies


def bsns_in(body: Any) -> set[str]:
    """Every nine-digit string in a request body: none may come back in the answer."""
    if isinstance(body, dict):
        return set().union(*(bsns_in(v) for v in body.values())) if body else set()
    if isinstance(body, list):
        return set().union(*(bsns_in(v) for v in body)) if body else set()
    return {body} if isinstance(body, str) and len(body) == 9 and body.isdigit() else set()


def test_schemathesis_ingest_without_credentials(
    world: World, apps: dict[str, FastAPI], fault_report: FaultReport
) -> None:
    before = world.state()
    statuses: set[int] = set()
    cases = 0
    for operation in operations(apps["ingest"]):

        def check(case: Any, operation: Any = operation) -> None:
            response = case.call()
            statuses.add(response.status_code)
            case.validate_response(response, checks=CONFORMANCE)
            if secured(operation):
                assert response.status_code in REFUSAL_STATUSES, (
                    f"{operation.label} without a valid token: {response.status_code}"
                )
                assert_error_body(response, operation.label)

        for strategy, scale in ingest_strategies(operation):
            cases += fuzz(strategy, check, scale)
    assert world.state() == before, "a request without a valid token changed the topic/receipts"
    assert 401 in statuses
    fault_report.add(
        f"schemathesis over the ingest API's OpenAPI, {cases} cases, no or forged credentials",
        f"statuses {sorted(statuses)}: no 5xx, no 2xx on a secured route, every response "
        "conforms to the schema; topic and receipts unchanged",
    )


SINGLE_ROUTES = ("/v1/signals", "/v2/signals")
BATCH_ROUTES = ("/v1/signals/batch", "/v2/signals/batch")


def test_schemathesis_ingest_with_a_publisher_token(
    world: World, apps: dict[str, FastAPI], fault_report: FaultReport
) -> None:
    headers = bearer(world.token(POLICE, Audience.INGEST))
    checks = [*CONFORMANCE, negative_data_rejection, ignored_auth]
    # A batch answers each signal on its own: one that violates the schema is rejected inside
    # a 200 (the others still go), so schemathesis' own rule (refuse the whole body) does not
    # hold there; what does is checked below.
    batch_checks = [*CONFORMANCE, ignored_auth]
    statuses: dict[int, int] = {}
    cases = 0
    start = world.state()
    for operation in operations(apps["ingest"]):

        def check(case: Any, operation: Any = operation) -> None:
            records, receipts = world.state()
            response = case.call(headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            batch = operation.path in BATCH_ROUTES
            case.validate_response(
                response, checks=batch_checks if batch else checks, headers=headers
            )
            if batch and negative(case) and response.status_code == 200:
                assert response.json()["rejected"] > 0, "a schema-violating batch taken whole"
            expected = 0
            if operation.path in SINGLE_ROUTES and response.status_code == 202:
                expected = 1
            elif batch and response.status_code in (200, 503):
                expected = response.json().get("accepted", 0)
            if response.status_code >= 400 and operation.path != "/health/ready":
                assert_error_body(response, operation.label)
            added = world.records() - records
            assert added == expected, f"{operation.label} {response.status_code}: {added} records"
            assert world.receipts() - receipts == expected, f"{operation.label}: receipts"
            for bsn in bsns_in(case.body):
                assert bsn not in response.text, f"{operation.label} echoed a BSN"

        for strategy, scale in ingest_strategies(operation):
            cases += fuzz(strategy, check, scale)
    accepted = world.records() - start[0]
    assert statuses.get(202, 0) > 0 and accepted > 0, statuses  # the acceptance path was reached
    assert not [s for s in statuses if s >= 500], statuses
    fault_report.add(
        f"schemathesis over the ingest API's OpenAPI, {cases} cases, valid publisher token "
        "(schema-generated, invalid and mutated real signals)",
        f"statuses {dict(sorted(statuses.items()))}: no 5xx, responses conform to the schema, "
        f"invalid input refused; topic grew by exactly the {accepted} accepted signals; "
        "no BSN echoed",
    )


# ------------------------------------------------------------------------- query: the cases

HOUSEHOLD_PATTERN = r"^hh\.k[0-9]{1,6}\.[0-9a-f]{32}$"
PURPOSES = st.one_of(
    st.sampled_from(["triage"] * 3 + sorted(REGISTER.purposes)), st.none(), st.text(max_size=12)
)
JUSTIFICATIONS = st.one_of(
    st.just(JUSTIFICATION),
    st.sampled_from(["", "urgent", "Mother with BSN 111222333 called about the children"]),
    st.none(),
)
HOUSEHOLDS = st.sampled_from([HOUSEHOLD, HOUSEHOLD_ELSEWHERE]) | st.from_regex(
    HOUSEHOLD_PATTERN, fullmatch=True
)


@st.composite
def timeline_requests(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        body: dict[str, Any] = {"household": draw(HOUSEHOLDS)}
    else:
        body = {"address": {"postcode": "3511AB", "house_number": draw(st.integers(1, 30))}}
    for name, values in (
        ("purpose", PURPOSES),
        ("justification", JUSTIFICATIONS),
        ("break_glass", st.booleans()),
    ):
        if draw(st.integers(0, 3)):  # mostly present: the gate's decisions need them
            body[name] = draw(values)
    return body


KEY_OPENINGS = [  # what the gate must decide right, whatever random inputs reach
    {"household": HOUSEHOLD, "purpose": "triage"},
    {"household": HOUSEHOLD_ELSEWHERE, "purpose": "triage"},
    {"household": HOUSEHOLD_ELSEWHERE, "purpose": "triage", "justification": JUSTIFICATION},
    {"household": HOUSEHOLD, "purpose": "triage", "break_glass": True},
    {"address": {"postcode": "3511AB", "house_number": 12}, "purpose": "triage"},
    *(
        {"household": h, "purpose": p, "break_glass": True, "justification": JUSTIFICATION}
        for h in (HOUSEHOLD, HOUSEHOLD_ELSEWHERE)
        for p in sorted(REGISTER.purposes)
    ),
]


def query_strategies(operation: schemathesis.APIOperation) -> Strategies:
    """Schemathesis' cases, and for the timelines cases that reach real households and real
    purposes (which random strings never would)."""
    strategies = [(s, 1) for s in generated(operation)]
    if operation.path == "/v1/households/{household}/timeline":
        by_path = st.tuples(HOUSEHOLDS, PURPOSES).flatmap(
            lambda hp: operation.as_strategy(
                path_parameters={"household": hp[0]},
                query={} if hp[1] is None else {"purpose": hp[1]},
            )
        )
        strategies.append((by_path, 2))
    elif operation.path == "/v1/households/timeline":
        opening = (st.sampled_from(KEY_OPENINGS) | timeline_requests()).flatmap(
            lambda b: operation.as_strategy(body=b)
        )
        strategies.append((opening, 4))
    elif operation.method.upper() == "GET" and secured(operation):
        by_purpose = PURPOSES.flatmap(
            lambda p: operation.as_strategy(query={} if p is None else {"purpose": p})
        )
        strategies.append((by_purpose, 1))
    return strategies


def test_schemathesis_query_without_credentials(
    world: World, apps: dict[str, FastAPI], fault_report: FaultReport
) -> None:
    head = world.log_head()
    statuses: set[int] = set()
    cases = 0
    for operation in operations(apps["query"]):

        def check(case: Any, operation: Any = operation) -> None:
            response = case.call()
            statuses.add(response.status_code)
            case.validate_response(response, checks=CONFORMANCE)
            if secured(operation):
                assert response.status_code in REFUSAL_STATUSES, (
                    f"{operation.label} without a valid token: {response.status_code}"
                )
                assert_error_body(response, operation.label)

        for strategy, scale in query_strategies(operation):
            cases += fuzz(strategy, check, scale)
    assert world.decisions_after(head) == [], "a request without a valid token reached the gate"
    refused = [p for kind, p in world.log_after(head) if kind == EntryKind.AUTH_REFUSED]
    assert refused and all(p["outcome"] == "deny" for p in refused), "401s leave a trace"
    assert 401 in statuses
    fault_report.add(
        f"schemathesis over the query API's OpenAPI, {cases} cases, no or forged credentials",
        f"statuses {sorted(statuses)}: no 5xx, no 2xx on a secured route, every response "
        "conforms to the schema, every refusal names its reason; the access log shows no "
        "decision (nothing read), only the refusals at authentication",
    )


def test_schemathesis_query_with_a_triage_token(
    world: World, apps: dict[str, FastAPI], fault_report: FaultReport
) -> None:
    headers = bearer(world.token(TRIAGE, Audience.QUERY))
    statuses: dict[int, int] = {}
    opened: dict[str, int] = {}
    cases = 0
    for operation in operations(apps["query"]):

        def check(case: Any, operation: Any = operation) -> None:
            head = world.log_head()
            response = case.call(headers=headers)
            status = response.status_code
            statuses[status] = statuses.get(status, 0) + 1
            case.validate_response(response, checks=CONFORMANCE, headers=headers)
            if not secured(operation):
                return
            entries = [payload for kind, payload in world.log_after(head) if kind == "access"]
            if operation.definition.raw.get("x-personal-data") is False:
                assert entries == [], f"{operation.label}: serves no personal data, yet logged"
                return
            assert len(entries) <= 1, f"{operation.label}: {len(entries)} access-log entries"
            if 200 <= status < 300:
                assert len(entries) == 1, f"{operation.label}: 2xx without an access-log entry"
                assert_permitted(entries[0], response.json(), operation.path)
                if "timeline" in operation.path:
                    key = f"{response.json()['purpose']}/{response.json()['access']}"
                    opened[key] = opened.get(key, 0) + 1
            else:
                assert status in REFUSAL_STATUSES, f"{operation.label}: {status}"
                assert_error_body(response, operation.label)
                for entry in entries:  # a deny, or a permit whose step then disclosed nothing
                    assert entry["outcome"] == "deny" or (
                        status in (404, 409, 422) and entry["records"] == 0 and not entry["fields"]
                    ), f"{operation.label}: {status} after {entry}"
                if status == 403:
                    assert len(entries) == 1, f"{operation.label}: a 403 left no decision"
                    assert response.json()["detail"] == entries[0]["reason"]

        for strategy, scale in query_strategies(operation):
            cases += fuzz(strategy, check, scale)
    assert opened, "no timeline was ever opened: the fuzzing did not reach the data"
    assert not [s for s in statuses if s >= 500], statuses
    fault_report.add(
        f"schemathesis over the query API's OpenAPI, {cases} cases, valid triage token "
        "(schema-generated, invalid, real households x registered purposes x break-glass)",
        f"statuses {dict(sorted(statuses.items()))}: no 5xx, responses conform to the schema; "
        "each 2xx had exactly one permit "
        "in the access log for a purpose triage holds (or a justified break-glass), fields and "
        f"sectors within the purpose (timelines opened: {dict(sorted(opened.items()))}); "
        "each 403 exactly one deny, any other refusal disclosed nothing",
    )


BREAK_GLASS_RESOURCES = {Resource.HOUSEHOLD_TIMELINE, Resource.PERSON_TIMELINE, Resource.IDENTITY}


def assert_permitted(entry: dict[str, Any], body: dict[str, Any], path: str) -> None:
    """The access-log entry of a 2xx is a permit for this analyst that the register allows."""
    assert entry["outcome"] == "permit", entry
    assert entry["actor"]["subject"] == TRIAGE.subject and entry["actor"]["role"] == "triage"
    purpose = REGISTER.purposes[entry["purpose"]]
    resource = Resource(entry["resource"])
    assert resource in purpose.resources, entry
    if entry["break_glass"]:
        assert TRIAGE.role in VT_ANALYST_ROLES and resource in BREAK_GLASS_RESOURCES
        assert len((entry["justification"] or "").strip()) >= 15, entry
    else:
        assert entry["purpose"] in purposes_of(TRIAGE.role, resource), entry
    if "timeline" in path:
        subject = body.get("household") or body.get("person")
        assert body["purpose"] == entry["purpose"] and subject == entry["subject"]
        assert len(body["signals"]) == entry["records"]
        shown = purpose.fields | ALWAYS_WITH_THE_SIGNAL
        if "persons" in purpose.fields:  # where a signal was recorded goes with persons
            shown |= MEMBERSHIP_FIELDS
        for signal in body["signals"]:
            assert set(signal) <= shown, signal
            if "sector" in signal:
                assert signal["sector"] in {str(s) for s in purpose.sectors}, signal
        if entry["subject_region"] not in (None, HOME_REGION):
            assert entry["cross_region"] or entry["break_glass"], entry


def test_break_glass_reveals_no_sector_the_role_may_not_see(
    world: World, query: TestClient, fault_report: FaultReport
) -> None:
    headers = bearer(world.token(TRIAGE, Audience.QUERY))
    allowed = set().union(
        *(
            {str(s) for s in REGISTER.purposes[name].sectors}
            for name in purposes_of(TRIAGE.role, Resource.HOUSEHOLD_TIMELINE)
        )
    )
    for purpose in sorted(REGISTER.purposes):
        answer = query.post(
            "/v1/households/timeline",
            json={
                "household": HOUSEHOLD,
                "purpose": purpose,
                "break_glass": True,
                "justification": JUSTIFICATION,
            },
            headers=headers,
        )
        assert answer.status_code in (200, 403), answer.text
        if answer.status_code == 200:
            shown = {s["sector"] for s in answer.json()["signals"] if "sector" in s}
            assert shown <= allowed, f"break-glass with purpose {purpose!r} showed {shown}"
    fault_report.add(
        "triage analyst breaks the glass with every registered purpose",
        "no sector beyond what the triage role's own purposes allow was shown",
    )


# ------------------------------------------------------------------ explicit hostile input


def valid_signals(count: int, seed_value: int) -> list[dict[str, Any]]:
    population = SyntheticPopulation(seed=seed_value)
    households = [population.household() for _ in range(max(1, count // 4))]
    return [population.signal(households[i % len(households)], Sector.POLICE) for i in range(count)]


def json_headers(token: str, content_type: str = "application/json") -> dict[str, str]:
    return {**bearer(token), "Content-Type": content_type}


@dataclass
class Target:
    """One POST route of one API, a body it would take and a token it would accept."""

    name: str
    client: TestClient
    path: str
    body: bytes
    token: str
    actor: Publisher | Analyst
    audience: Audience

    def post(
        self,
        content: Any = None,
        headers: dict[str, str] | None = None,
        files: dict[str, Any] | None = None,
    ) -> Any:
        if headers is None:
            headers = json_headers(self.token)
        if content is None and files is None:
            content = self.body
        return self.client.post(self.path, content=content, headers=headers, files=files)


@pytest.fixture(scope="module")
def targets(world: World, ingest: TestClient, query: TestClient) -> list[Target]:
    publisher = world.token(POLICE, Audience.INGEST)
    analyst = world.token(TRIAGE, Audience.QUERY)
    (one,) = valid_signals(1, 801)
    batch = {"signals": valid_signals(3, 802)}
    opening = {"household": HOUSEHOLD, "purpose": "triage"}
    return [
        Target(
            "ingest /v1/signals",
            ingest,
            "/v1/signals",
            json.dumps(one).encode(),
            publisher,
            POLICE,
            Audience.INGEST,
        ),
        Target(
            "ingest /v1/signals/batch",
            ingest,
            "/v1/signals/batch",
            json.dumps(batch).encode(),
            publisher,
            POLICE,
            Audience.INGEST,
        ),
        Target(
            "query /v1/households/timeline",
            query,
            "/v1/households/timeline",
            json.dumps(opening).encode(),
            analyst,
            TRIAGE,
            Audience.QUERY,
        ),
    ]


class Unchanged:
    """Asserts that a refused request changed nothing: no record on the topic, no receipt, and
    no access-log entry (a refusal before the gate reads nothing, so decides nothing)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.state = world.state()
        self.head = world.log_head()

    def check(self, what: str) -> None:
        assert self.world.state() == self.state, f"{what}: the topic or the receipts changed"
        assert self.world.decisions_after(self.head) == [], f"{what}: reached the query gate"


def refuse(
    world: World,
    target: Target,
    what: str,
    status: int,
    *,
    field: str | None = None,
    reason: str = "",
    within: float = 2.0,
    **request: Any,
) -> Any:
    """Sends the request; asserts the status, a reason (and the one field) in the problem details,
    an answer within `within` seconds, and that nothing changed."""
    unchanged = Unchanged(world)
    started = time.monotonic()
    answer = target.post(**request)
    elapsed = time.monotonic() - started
    label = f"{target.name}, {what}"
    assert answer.status_code == status, f"{label}: {answer.status_code} {answer.text[:300]}"
    body = assert_error_body(answer, label)
    if field is not None:
        assert [e["field"] for e in body["errors"]] == [field], f"{label}: {body}"
    assert reason in answer.text, f"{label}: {answer.text[:300]}"
    assert elapsed < within, f"{label}: took {elapsed:.2f}s"
    unchanged.check(label)
    return answer


def chunked(data: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    """A body sent with Transfer-Encoding: chunked, so without a Content-Length."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_oversized_and_chunked_bodies_are_413(
    world: World, targets: list[Target], fault_report: FaultReport
) -> None:
    for target in targets:
        limit = 2 * 1024 * 1024 if target.path.startswith("/v1/signals") else 64 * 1024
        huge = target.body[:-1] + b', "padding": "' + b"x" * (limit + 1) + b'"}'
        for what, content in (("a body over the limit", huge), ("a chunked body", chunked(huge))):
            refuse(world, target, what, 413, content=content, reason="body larger than")
    fault_report.add(
        "bodies over the limit (2 MiB ingest, 64 KiB query), with Content-Length and chunked",
        "413 naming the limit, quickly; nothing on the topic, no receipt, no access-log entry",
    )


def test_deep_nesting_is_422_quickly(
    world: World, targets: list[Target], fault_report: FaultReport
) -> None:
    for target in targets:
        depth = 100_000 if target.path.startswith("/v1/signals") else 10_000  # < 64 KiB
        for what, content in (
            (f"{depth} nested lists", b"[" * depth + b"]" * depth),
            (f"{depth} nested objects", b'{"a":' * depth + b"1" + b"}" * depth),
            (
                f"a field nested {depth} deep",
                target.body[:-1] + b', "x": ' + b"[" * depth + b"]" * depth + b"}",
            ),
        ):
            refuse(
                world,
                target,
                what,
                422,
                content=content,
                field="body",
                reason="nested too deeply",
                within=1.0,
            )
        if not target.path.endswith("/batch"):  # a batch ignores fields beside `signals`
            # nesting the parser takes is refused by the contract, which names the field
            nested = target.body[:-1] + b', "deep": ' + b"[" * 200 + b"]" * 200 + b"}"
            refuse(
                world,
                target,
                "a field nested 200 deep",
                422,
                content=nested,
                field="deep",
                reason="Extra inputs are not permitted",
            )
    fault_report.add(
        "JSON nested 100,000 deep (10,000 for the query API's 64 KiB limit), lists and objects",
        "422 'nested too deeply' for field body within 1 s, no recursion error or 5xx; "
        "nothing stored",
    )


def test_wrong_content_types_are_415(
    world: World, targets: list[Target], fault_report: FaultReport
) -> None:
    for target in targets:
        for content_type in (
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/xml",
            "application/json-patch+json",
            "",
        ):
            refuse(
                world,
                target,
                f"Content-Type {content_type!r}",
                415,
                headers=json_headers(target.token, content_type),
                reason="application/json",
            )
        refuse(
            world,
            target,
            "a multipart upload",
            415,
            files={"signal": ("signal.json", target.body, "application/json")},
            headers=bearer(target.token),
            reason="application/json",
        )
    fault_report.add(
        "wrong content types: text/plain, form-urlencoded, multipart, XML, json-patch, none",
        "415 'body must be application/json' on every POST route; nothing stored",
    )


def test_invalid_utf8_and_malformed_json_are_422(
    world: World, targets: list[Target], fault_report: FaultReport
) -> None:
    for target in targets:
        body = target.body
        key = body.index(b'"', 2)  # the end of the first key
        value = body.index(b'": "') + 4  # inside the first string value
        cases = {
            "bytes that are never UTF-8": (body[:2] + b"\xff\xfe" + body[2:], "not valid UTF-8"),
            "an invalid byte in a key": (body[:key] + b"\xc3\x28" + body[key:], "not valid UTF-8"),
            "an encoded surrogate in a value": (
                body[:value] + b"\xed\xa0\x80" + body[value:],
                "not valid UTF-8",
            ),
            "a truncated multi-byte sequence": (body[:-1] + b'"\xe2\x82"}', "not valid UTF-8"),
            "UTF-16": (body.decode().encode("utf-16"), "not valid UTF-8"),
            "truncated JSON": (body[:-7], "not valid JSON"),
            "trailing garbage": (body + b"}{", "not valid JSON"),
            "single quotes": (body.replace(b'"', b"'"), "not valid JSON"),
            "a 5000-digit number": (body[:-1] + b', "n": ' + b"9" * 5000 + b"}", "too many digits"),
        }
        for what, (content, reason) in cases.items():
            refuse(world, target, what, 422, content=content, field="body", reason=reason)
    fault_report.add(
        "invalid UTF-8 (bytes never UTF-8, bad sequences in keys and values, encoded "
        "surrogates, truncated sequences, UTF-16) and malformed JSON (truncated, trailing "
        "garbage, single quotes, 5000-digit numbers) on every POST route",
        "422 naming field 'body' and why; nothing stored",
    )


def test_huge_batches_are_413(
    world: World, targets: list[Target], fault_report: FaultReport
) -> None:
    (target,) = [t for t in targets if t.path == "/v1/signals/batch"]
    maximum = world.settings.max_batch_signals
    batches = {
        f"{maximum + 1} valid signals": {"signals": valid_signals(maximum + 1, 803)},
        "100,000 empty signals": {"signals": [{}] * 100_000},
    }
    for what, batch in batches.items():
        content = json.dumps(batch).encode()
        assert len(content) <= world.settings.max_body_bytes, what
        refuse(
            world,
            target,
            what,
            413,
            content=content,
            reason=f"at most {maximum} signals",
            within=10.0,
        )
    fault_report.add(
        f"batches over the limit: {maximum + 1} valid signals, 100,000 empty ones",
        f"413 'a batch holds at most {maximum} signals'; not one signal on the topic",
    )


# ---------------------------------------------------------------------------- credentials


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


def claims_for(actor: Publisher | Analyst, audience: Audience) -> dict[str, Any]:
    """The claims TokenAuthority.issue would sign for this actor."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": actor.subject,
        "aud": str(audience),
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "jti": str(uuid.uuid4()),
        "org": actor.organisation,
    }
    if isinstance(actor, Publisher):
        claims.update(kind="publisher", sector=str(actor.sector))
    else:
        claims.update(kind="analyst", role=str(actor.role), region=str(actor.region))
    return claims


def public_key_material(world: World) -> tuple[str, bytes, bytes]:
    """The signing key's id and its public half as PEM and raw bytes: public, so an attacker
    may well hold them."""
    pem_path = sorted(world.settings.keys_dir.glob("token-signing-*.pem"))[-1]
    private = serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    public = private.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return key_id_of(public), pem, raw


def test_forged_and_expired_tokens_are_401(
    world: World, targets: list[Target], tmp_path: Path, fault_report: FaultReport
) -> None:
    assert ALGORITHM == "EdDSA"
    kid, pem, raw = public_key_material(world)
    stranger = TokenAuthority(tmp_path / "stranger-keys")
    for target in targets:
        actor, audience = target.actor, target.audience
        other = Audience.QUERY if audience is Audience.INGEST else Audience.INGEST
        claims = claims_for(actor, audience)
        genuine = world.token(actor, audience).split(".")
        tokens = {
            "alg none": forged({"alg": "none", "typ": "JWT", "kid": kid}, claims, lambda _: b""),
            "alg none, no kid": forged({"alg": "none", "typ": "JWT"}, claims, lambda _: b""),
            "HS256 keyed with the public key (PEM)": forged(
                {"alg": "HS256", "typ": "JWT", "kid": kid},
                claims,
                lambda m: hmac.new(pem, m, hashlib.sha256).digest(),
            ),
            "HS256 keyed with the public key (raw)": forged(
                {"alg": "HS256", "typ": "JWT", "kid": kid},
                claims,
                lambda m: hmac.new(raw, m, hashlib.sha256).digest(),
            ),
            "claims changed after signing": ".".join(
                [
                    genuine[0],
                    _b64(json.dumps({**claims, "sub": "someone-else"}).encode()),
                    genuine[2],
                ]
            ),
            "signed by another authority": stranger.issue(actor, audience, HOUR),
            "for the other API": world.token(actor, other),
            "expired an hour ago": world.token(actor, audience, -HOUR),
            "no JWT at all": "not.a.jwt",
        }
        for what, token in tokens.items():
            answer = refuse(world, target, what, 401, headers=json_headers(token))
            assert answer.headers.get("WWW-Authenticate") == "Bearer", what
        expired = tokens["expired an hour ago"]
        refuse(world, target, "expired", 401, headers=json_headers(expired), reason="token expired")
        refuse(world, target, "no token", 401, headers={"Content-Type": "application/json"})
    fault_report.add(
        "forged tokens: alg none, HS256 keyed with the public key, altered claims, another "
        "authority's key, the other API's audience, expired, garbage, none",
        "401 with WWW-Authenticate and a reason on every POST route; nothing stored or read",
    )


def test_a_revoked_token_replayed_is_401_within_seconds(
    world: World, targets: list[Target], fault_report: FaultReport
) -> None:
    refresh_window = 2.0  # how long each service caches the revocation list
    for target in targets:
        token = world.token(target.actor, target.audience)
        first = target.post(headers=json_headers(token))
        assert first.status_code in (200, 202), first.text

        # revoked through the shared list, as `radar admin` in another process would
        RevocationList(world.engine).revoke(token_id(token), "chaos: stolen token")
        revoked_at = time.monotonic()
        while True:
            unchanged = Unchanged(world)
            replay = target.post(headers=json_headers(token))
            if replay.status_code == 401:
                break
            assert replay.status_code in (200, 202), replay.text
            assert time.monotonic() - revoked_at < refresh_window + 1.0, "still accepted"
            time.sleep(0.1)
        took = time.monotonic() - revoked_at
        unchanged.check(f"{target.name}, a replayed revoked token")
        assert replay.json()["detail"] == "token revoked", replay.text
        assert took < refresh_window + 1.0, took
        for _ in range(3):  # and it stays refused
            refuse(
                world,
                target,
                "a replayed revoked token",
                401,
                headers=json_headers(token),
                reason="token revoked",
            )
    fault_report.add(
        "a valid token revoked (shared revocation list) and then replayed on every POST route",
        f"401 'token revoked' within the {refresh_window:.0f} s cache window and on every "
        "replay after; the refused replays stored and read nothing",
    )


def test_wrong_methods_and_unknown_routes_are_4xx(
    world: World, ingest: TestClient, query: TestClient, fault_report: FaultReport
) -> None:
    unchanged = Unchanged(world)
    publisher = json_headers(world.token(POLICE, Audience.INGEST))
    analyst = json_headers(world.token(TRIAGE, Audience.QUERY))
    for client, headers, method, path in (
        (ingest, publisher, "GET", "/v1/signals"),
        (ingest, publisher, "PUT", "/v1/signals"),
        (ingest, publisher, "DELETE", "/v1/signals/batch"),
        (query, analyst, "DELETE", f"/v1/households/{HOUSEHOLD}/timeline"),
        (query, analyst, "GET", "/v1/households/not-a-pseudonym/timeline?purpose=triage"),
        (query, publisher, "GET", f"/v1/households/{HOUSEHOLD}/timeline?purpose=triage"),
        (query, analyst, "GET", "/admin"),
    ):
        answer = client.request(method, path, headers=headers, content=b"{}")
        assert answer.status_code in REFUSAL_STATUSES, f"{method} {path}: {answer.status_code}"
        assert_error_body(answer, f"{method} {path}")
    unchanged.check("wrong methods and routes")
    fault_report.add(
        "wrong methods, unknown routes, a malformed pseudonym, a publisher's token on the "
        "query API",
        "4xx with a reason; nothing stored, no access-log entry",
    )
