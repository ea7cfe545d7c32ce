"""Fixtures for the real services: the Kafka broker and PostgreSQL that `make test` starts, and
the folder a test lives in as its marker.

A test that needs a service and cannot reach it fails loudly; nothing is skipped or faked.

The folders: `unit/` (pure code: no service fixture, and its conftest refuses connections and
processes; `make test-unit`), `integration/` (the real broker and databases, in-process), `e2e/`
(radar processes started by testkit), `browser/` (the pages in headless Chromium; `make
browser` installs it) and `chaos/` (marked by its own conftest). A test outside
them, or a unit test asking for a service, is a collection error rather than a test that runs
in the wrong company.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError
from sqlalchemy.engine import make_url

from services.database import Database
from services.settings import Settings
from testkit.services import KAFKA_BOOTSTRAP, POSTGRES_URL

TESTS_DIR = Path(__file__).parent
KINDS = ("unit", "integration", "e2e", "browser")  # each folder's name is its marker
CHAOS = "chaos"  # tests/chaos/conftest.py marks its own
SERVICE_FIXTURES = frozenset(
    {
        "kafka_admin",
        "topic",
        "postgres_server",
        "database",
        "empty_database",
        "sqlite_database",
        "settings",
    }
)


def _kind(item: pytest.Item) -> str:
    relative = Path(str(item.path)).relative_to(TESTS_DIR)
    return relative.parts[0] if len(relative.parts) > 1 else ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks every test `unit`, `integration` or `e2e` by its folder, so `-m unit` and
    `-m "not chaos"` select by what a test needs; refuses tests that sit anywhere else."""
    for item in items:
        kind = _kind(item)
        if kind == CHAOS:
            continue
        if kind not in KINDS:
            raise pytest.UsageError(
                f"{item.nodeid}: a test lives in tests/unit, tests/integration, tests/e2e, "
                "tests/browser or tests/chaos, by what it needs"
            )
        if kind == "unit" and (wanted := SERVICE_FIXTURES & set(getattr(item, "fixturenames", ()))):
            raise pytest.UsageError(
                f"{item.nodeid}: a unit test uses no service, but asks for "
                f"{', '.join(sorted(wanted))}; it belongs in tests/integration"
            )
        item.add_marker(getattr(pytest.mark, kind))


NEVER_SKIPPED = (
    "skipped ({reason}): a test that cannot have what it needs fails; nothing here is skipped"
)


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    return str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A skip (pytest.skip, skipif, a fixture that skips) is reported as a failure."""
    report = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid}: " + NEVER_SKIPPED.format(reason=_skip_reason(report))
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """A module that skips itself (pytest.importorskip, allow_module_level) fails to collect."""
    report = yield
    if report.skipped:
        report.outcome = "failed"
        report.longrepr = f"{collector.nodeid}: " + NEVER_SKIPPED.format(
            reason=_skip_reason(report)
        )
    return report


@pytest.fixture(scope="session")
def kafka_admin() -> Iterator[KafkaAdminClient]:
    try:
        admin = KafkaAdminClient(bootstrap_servers=KAFKA_BOOTSTRAP, request_timeout_ms=10000)
        admin.list_topics()
    except Exception as error:
        pytest.fail(
            f"Kafka broker not reachable at {KAFKA_BOOTSTRAP} ({error!r}); "
            "start it with `make kafka-up` (make test does)"
        )
    yield admin
    admin.close()


@pytest.fixture
def topic(kafka_admin: KafkaAdminClient) -> Iterator[str]:
    """A fresh topic with six partitions, unique to the test; removed afterwards with the
    topics named after it (its checkpoints topic), so a developer's broker does not collect
    thousands of them (its start-up replays every topic ever made)."""
    name = f"test.signals.{uuid.uuid4().hex[:12]}"
    kafka_admin.create_topics([NewTopic(name, num_partitions=6, replication_factor=1)])
    yield name
    made = [t for t in kafka_admin.list_topics() if t == name or t.startswith(f"{name}.")]
    with contextlib.suppress(KafkaError):  # already removed by the test itself
        kafka_admin.delete_topics(made)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=5) as connection:
            connection.execute("select 1")
    except Exception as error:
        pytest.fail(
            f"PostgreSQL not reachable at {POSTGRES_URL} ({error!r}); "
            "start it with `make pg-up` (make test does)"
        )
    return POSTGRES_URL


def _fresh_postgres_database(server_url: str) -> tuple[str, str]:
    name = f"radar_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, make_url(server_url).set(database=name).render_as_string(hide_password=False)


def _drop_postgres_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _new_database(
    request: pytest.FixtureRequest, sqlite: bool, sqlite_file: Path, keys: Path
) -> Iterator[Database]:
    """An empty SQLite file, or a PostgreSQL database of its own dropped afterwards."""
    if sqlite:
        yield Database(f"sqlite:///{sqlite_file}", keys)
        return
    server = request.getfixturevalue("postgres_server")
    name, url = _fresh_postgres_database(server)
    try:
        yield Database(url, keys)
    finally:
        _drop_postgres_database(server, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A new, empty radar database: an SQLite file, or a PostgreSQL database of its own."""
    keys = tmp_path / "data" / "keys"  # where the `settings` fixture's processes keep keys
    with _new_database(request, request.param == "sqlite", tmp_path / "radar.db", keys) as new:
        yield new


@pytest.fixture
def empty_database(
    request: pytest.FixtureRequest, database: Database, tmp_path: Path
) -> Iterator[Database]:
    """Another new, empty database of the same kind as `database` (where a restore goes),
    its keys in a directory of its own."""
    other = tmp_path / "other-data"
    with _new_database(request, database.is_sqlite, other / "radar.db", other / "keys") as new:
        yield new


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Database:
    return Database(f"sqlite:///{tmp_path / 'radar.db'}", tmp_path / "data" / "keys")


@pytest.fixture
def settings(
    tmp_path: Path, database: Database, topic: str, kafka_admin: KafkaAdminClient
) -> Iterator[Settings]:
    """Settings for one test: its own data dir, database, topic and consumer group, on the real
    broker; the group is removed afterwards (its processes have stopped by then)."""
    group = f"test-aggregator-{uuid.uuid4().hex[:8]}"
    yield Settings(
        data_dir=tmp_path / "data",
        database_url=database.url,
        kafka_bootstrap=KAFKA_BOOTSTRAP,
        signals_topic=topic,
        consumer_group=group,
    )
    with contextlib.suppress(KafkaError):  # no coordinator reachable: nothing to remove
        kafka_admin.delete_groups([group])  # errors come back in its answer, not raised
