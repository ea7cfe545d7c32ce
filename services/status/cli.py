"""`radar status`: every part probed at once (each within ~2 s), printed as a table or as
JSON; exit status 1 names what is down, so a cron job or a runbook can act on it."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import orjson
import typer

from services.settings import Settings
from services.status import probes
from services.status.probes import DOWN, Part


def probe_all(settings: Settings) -> list[Part]:
    """Every part, probed in parallel: the slowest probe, not their sum, bounds the wait."""
    checks: list[Callable[[], Part]] = [
        lambda: probes.ingest(settings),
        lambda: probes.api("query", settings, settings.query_port),
        lambda: probes.aggregator(settings),
        lambda: probes.projector(settings),
        lambda: probes.database(settings),
    ]
    with ThreadPoolExecutor(max_workers=len(checks)) as pool:
        return list(pool.map(lambda check: check(), checks))


def report(parts: list[Part]) -> dict[str, Any]:
    """The JSON form: each part's state, detail and facts, and which parts are down."""
    down = [part.name for part in parts if part.state == DOWN]
    return {
        "ok": not down,
        "down": down,
        "parts": {
            part.name: {"state": part.state, "detail": part.detail, **part.facts} for part in parts
        },
    }


def _summary(part: Part) -> str:
    """The one-line facts of a part, for the table."""
    facts = part.facts
    if part.name == "aggregator" and "consumer_lag" in facts:
        lag = f"consumer lag {facts['consumer_lag']} over {len(facts['partitions'])} partitions"
        if "processes" in facts:
            lag += f", {facts['processes_up']} of {facts['processes']} aggregators up"
        return lag
    if part.name == "projector" and "events_behind" in facts:
        behind = ", ".join(f"{name} {n}" for name, n in facts["events_behind"].items())
        return f"events behind: {behind or 'no read models yet'}"
    if part.name == "database" and "event_store_position" in facts:
        return (
            f"event store at {facts['event_store_position']}, "
            f"schema {facts.get('schema_revision') or '-'}, "
            f"receipts format {facts.get('receipts_format') or '-'}, "
            f"vault format {facts.get('vault_format') or '-'}"
        )
    if part.name in ("ingest", "query") and facts:
        return ", ".join(f"{key} {value}" for key, value in facts.items())
    return ""


def text_report(parts: list[Part]) -> str:
    """The table an operator reads: one line per part, then the read models, then the verdict."""
    lines = [f"{'PART':<11} {'STATE':<11} DETAIL"]
    for part in parts:
        detail = "; ".join(d for d in (_summary(part), part.detail) if d)
        lines.append(f"{part.name:<11} {part.state:<11} {detail}".rstrip())
    models: dict[str, Any] = next(
        (p.facts.get("read_models", {}) for p in parts if p.name == "database"), {}
    )
    behind: dict[str, int] = next(
        (p.facts.get("events_behind", {}) for p in parts if p.name == "projector"), {}
    )
    if models:
        lines += ["", f"{'READ MODEL':<22} {'POSITION':>9} {'FORMAT':>7} {'BEHIND':>7}"]
        for name, model in models.items():
            lag = behind.get(name, "-")
            lines.append(f"{name:<22} {model['position']:>9} {model['format']:>7} {lag:>7}")
    down = [part for part in parts if part.state == DOWN]
    lines.append("")
    lines.append("down: " + ", ".join(p.name for p in down) if down else "all up")
    return "\n".join(lines)


def status(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for machines.")] = False,
) -> None:
    """Each process's health, its lags and the stored format versions; exit status 1 when a
    part is down.

    Probes the ingest and query APIs (/health/ready), the aggregator's and projector's metrics
    ports (consumer lag, events behind per read model) and the database (the event store's
    newest position, each read model's position and format, the receipts' and vault's
    format), each within about two seconds. Prints no pseudonym or identifier."""
    parts = probe_all(Settings())
    if as_json:
        typer.echo(orjson.dumps(report(parts), option=orjson.OPT_INDENT_2).decode())
    else:
        typer.echo(text_report(parts))
    if any(part.state == DOWN for part in parts):
        raise typer.Exit(1)
