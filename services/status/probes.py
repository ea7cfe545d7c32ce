"""One probe per part of the radar, each bounded by a short timeout so `radar status` answers
in seconds even when a process hangs or a host drops packets.

A probe reports what an operator can act on: up or down and why, and the lags. It never
reports a pseudonym or identifier: only ports, counts, read-model names and partitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from services.backup.manifest import LEDGER_TABLES
from services.replicas import ReplicaState
from services.settings import Settings

TIMEOUT_SECONDS = 2.0
UP, DOWN, NOT_PROBED = "up", "down", "not probed"


@dataclass
class Part:
    """One part's state; `facts` holds its lags, positions and formats (JSON-ready)."""

    name: str
    state: str
    detail: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


def local_host(host: str) -> str:
    """Where to reach a process bound to `host`: a wildcard address is reached on loopback."""
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104


def _address(host: str, port: int) -> str:
    host = local_host(host)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def api(name: str, settings: Settings, port: int) -> Part:
    """GET /health/ready of the ingest or query API: 200 is up; 503 names what it is missing."""
    scheme = "http"
    if name == "ingest" and settings.ingest_tls_cert is not None:
        if settings.ingest_mutual_tls:
            return Part(name, NOT_PROBED, "https, needs a client certificate: not probed")
        scheme = "https"
    url = f"{scheme}://{_address(settings.host, port)}/health/ready"
    try:
        # verify=False: nothing secret is sent, and the answer only says ready or not
        answer = httpx.get(url, timeout=TIMEOUT_SECONDS, verify=False)  # noqa: S501
    except httpx.HTTPError as error:
        return Part(name, DOWN, f"no answer at {url} ({type(error).__name__})")
    if answer.status_code == 200:
        return Part(name, UP, url, _readiness(answer))
    facts = _readiness(answer)
    missing = [f"{part} down" for part, state in facts.items() if state == DOWN]
    if facts.get("replicas") == ReplicaState.BELOW_MIN_INSYNC:
        missing.append("signals topic below its minimum of copies in sync")
    detail = ", ".join(missing) or "not ready"
    return Part(name, DOWN, f"{url} answered {answer.status_code}: {detail}", facts)


def _readiness(answer: httpx.Response) -> dict[str, Any]:
    """The readiness members of an answer, if it has them: `kafka` and `database` (up or
    down), and ingest's `replicas` (the signals topic's copies in sync; not shown when the
    API could not tell)."""
    try:
        body = answer.json()
    except ValueError:
        return {}
    if not isinstance(body, dict):
        return {}
    facts = {key: body[key] for key in ("kafka", "database") if body.get(key) in (UP, DOWN)}
    if isinstance(body.get("replicas"), str) and body["replicas"] != ReplicaState.UNKNOWN:
        facts["replicas"] = body["replicas"]
    return facts


def _scrape(name: str, settings: Settings, port: int) -> tuple[Part, list[Any]]:
    """The metric families on a process's metrics port, or the reason there are none."""
    if port == 0:
        setting = f"RADAR_{name.upper()}_METRICS_PORT"
        return Part(name, NOT_PROBED, f"no metrics port ({setting}=0): not probed"), []
    url = f"http://{_address(settings.host, port)}/metrics"
    try:
        answer = httpx.get(url, timeout=TIMEOUT_SECONDS)
        answer.raise_for_status()
        families = list(text_string_to_metric_families(answer.text))
    except (httpx.HTTPError, ValueError) as error:
        return Part(name, DOWN, f"no metrics at {url} ({type(error).__name__})"), []
    return Part(name, UP, url), families


def _samples(families: list[Any], metric: str) -> list[Any]:
    return [s for family in families for s in family.samples if s.name == metric]


def _members(name: str, settings: Settings) -> list[tuple[Part, list[Any]]]:
    """Each process of this kind `radar run` starts, scraped on its own metrics port."""
    return [_scrape(name, settings, port) for port in settings.metrics_ports(name)]


def _joined(name: str, members: list[tuple[Part, list[Any]]]) -> Part:
    """One part for several processes: up when every one answers; the detail names each."""
    if len(members) == 1:
        return members[0][0]
    down = [part.detail for part, _ in members if part.state != UP]
    state = DOWN if down else UP
    detail = "; ".join(down) or ", ".join(part.detail for part, _ in members)
    return Part(
        name, state, detail, {"processes": len(members), "processes_up": len(members) - len(down)}
    )


def aggregator(settings: Settings) -> Part:
    """Up when every aggregator's metrics answer; the consumer lag summed over the partitions
    assigned to them (each partition is one member's)."""
    members = _members("aggregator", settings)
    part = _joined("aggregator", members)
    if any(member.state == UP for member, _ in members):
        lags = {
            f"{s.labels['topic']}/{s.labels['partition']}": int(s.value)
            for member, families in members
            for s in _samples(families, "radar_aggregator_consumer_lag")
        }
        part.facts.update({"consumer_lag": sum(lags.values()), "partitions": lags})
    return part


def ingest(settings: Settings) -> Part:
    """The API's readiness on its shared port, and with several ingest processes each one's
    own metrics port: down when any of them does not answer."""
    part = api("ingest", settings, settings.ingest_port)
    if settings.ingest_processes == 1 or part.state != UP:
        return part
    members = _joined("ingest", _members("ingest", settings))
    if members.state != UP:
        return Part("ingest", DOWN, members.detail, {**part.facts, **members.facts})
    return Part("ingest", UP, part.detail, {**part.facts, **members.facts})


def projector(settings: Settings) -> Part:
    """Up when its metrics answer; the events each read model has not applied yet."""
    part, families = _scrape("projector", settings, settings.projector_metrics_port)
    if part.state == UP:
        behind = {
            s.labels["read_model"]: int(s.value)
            for s in _samples(families, "radar_projector_events_behind")
        }
        part.facts = {"events_behind": dict(sorted(behind.items()))}
    return part


def _connect(url: str) -> Any:
    """An engine that gives up within the timeout and never creates a missing SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not path.is_file():
            raise FileNotFoundError(f"no database file at {path}")
        return create_engine(
            f"sqlite:///file:{path}?mode=ro&uri=true",
            connect_args={"timeout": TIMEOUT_SECONDS},
            poolclass=NullPool,
        )
    return create_engine(
        parsed.set(drivername="postgresql+psycopg"),
        connect_args={"connect_timeout": max(1, int(TIMEOUT_SECONDS))},
        poolclass=NullPool,
    )


def _pairs(connection: Connection, tables: set[str], table: str, value: str) -> dict[str, int]:
    """name -> value of a (name, value) table; empty if the table was never created."""
    if table not in tables:
        return {}
    rows = connection.execute(text(f"SELECT name, {value} FROM {table}")).all()  # noqa: S608
    return {str(row[0]): int(row[1]) for row in rows}


def _read(url: str, read: Any) -> tuple[str, str, dict[str, Any]]:
    """(state, detail, facts) of one database, `read(connection, tables)` giving the facts."""
    try:
        engine = _connect(url)
    except FileNotFoundError as error:
        return DOWN, str(error), {}
    try:
        with engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
            return UP, "", read(connection, tables)
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        return DOWN, f"not reachable ({type(cause).__name__})", {}
    finally:
        engine.dispose()


def _radar_facts(connection: Connection, tables: set[str]) -> dict[str, Any]:
    """The event store's newest position, each read model's position and format, and the
    receipts' format: a handful of one-row reads."""
    events, _tracking, notification_id = LEDGER_TABLES[connection.dialect.name]
    newest = 0
    if events in tables:
        found = connection.execute(text(f"SELECT MAX({notification_id}) FROM {events}")).scalar()  # noqa: S608
        newest = int(found or 0)
    positions = _pairs(connection, tables, "projection_positions", "position")
    formats = _pairs(connection, tables, "projection_formats", "format")
    receipts = _pairs(connection, tables, "ingest_receipt_formats", "format")
    # no format row: format 1 (services/signals/receipt_format.py)
    receipts_format = next(iter(receipts.values()), 1 if "ingest_receipts" in tables else None)
    return {
        "event_store_position": newest,
        "read_models": {
            name: {"position": positions.get(name, 0), "format": formats.get(name, 1)}
            for name in sorted(positions.keys() | formats.keys())
        },
        "receipts_format": receipts_format,
        **_schema_facts(connection, "schema"),
    }


def _schema_facts(connection: Connection, prefix: str) -> dict[str, Any]:
    """The schema revision and whether this radar can serve it (services/schema)."""
    from services.schema.migrate import schema_state

    state = schema_state(connection)
    return {
        f"{prefix}_revision": state.revision,
        f"{prefix}_serves": state.current or state.empty,
        f"{prefix}_state": state.describe(),
    }


def _vault_facts(connection: Connection, tables: set[str]) -> dict[str, Any]:
    formats = _pairs(connection, tables, "vault_formats", "format")
    # no format row: format 1 (privacy/storage/vault_rows.py)
    return {
        "vault_format": next(iter(formats.values()), 1 if "vault_identities" in tables else None),
        **_schema_facts(connection, "vault_schema"),
    }


def database(settings: Settings) -> Part:
    """The radar database and the vault's: reachable, and what their format rows say."""
    state, detail, facts = _read(settings.resolved_database_url, _radar_facts)
    vault_state, vault_detail, vault = _read(settings.resolved_vault_url, _vault_facts)
    facts.update(vault)
    if vault_state == DOWN:
        detail = "; ".join(d for d in (detail, f"vault: {vault_detail}") if d)
        state = DOWN
    for name, prefix in (("schema", "schema"), ("vault schema", "vault_schema")):
        if facts.get(f"{prefix}_serves") is False:
            detail = "; ".join(d for d in (detail, f"{name} {facts[f'{prefix}_state']}") if d)
            state = DOWN
    return Part("database", state, detail, facts)
