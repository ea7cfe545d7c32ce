"""`radar export cbs`: the half-yearly beleidsinformatie for CBS, from the event store as of a
moment, after disclosure control, with its JSON Schema, a self-check report and a manifest.

A delivery is a disclosure, so it follows the register (privacy/recipients.toml, [statistics])
and is recorded in the access log (recipient, register version, period, delivery, moment,
threshold, what was suppressed, the file's hash; never a count) before any file appears.
Nothing is written when it is refused, and no file is ever overwritten.

Deliveries of a period are numbered in the output directory, which is the archive of what was
sent: the next delivery reads the previous one there (its manifest's moment and its file's
suppression pattern) so that no suppressed cell can be recovered by differencing the two.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes, hmac

from privacy.keyfiles import write_secret_file
from privacy.linked_tables import protect_all
from privacy.recipients import (
    RecipientRegister,
    RecipientRegisterError,
    StatisticsRecipient,
    UnknownRecipientError,
)
from privacy.statistical_disclosure import Cell, CellStatus, Table
from privacy.storage.access_log import AccessLog, EntryKind, LogEntry
from radar.cbs_tables import cbs_tables
from radar.periods import Period, PeriodError
from services.ledger.application import SignalLedger
from services.statistics import cbs_layout
from services.statistics.replay import history_as_of

STEM = "beleidsinformatie"
SCHEMA_NAME = f"{STEM}.schema.json"
TABLE_DIMENSION = {"contacts": "kind", "investigations": "investigation_outcome"}  # else after _by_


class CbsExportError(Exception):
    """The delivery is refused; no file was written (nor, but for a file that appeared while
    exporting, anything logged)."""


@dataclass(frozen=True)
class CbsSources:
    register_path: Path
    ledger: SignalLedger
    access_log: AccessLog
    rounding_key: bytes


@dataclass(frozen=True)
class CbsDelivery:
    entry: LogEntry
    files: list[Path]
    self_check: dict[str, Any]


def rounding_key(data_dir: Path) -> bytes:
    """The installation's secret for the rounding draws, made on first use: with it known,
    the draws could be replayed and a rounded count narrowed down."""
    path = data_dir / "statistics" / "rounding.key"
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        write_secret_file(path, secrets.token_bytes(32))
    return path.read_bytes()


def _seed(key: bytes, what: str) -> bytes:
    """The delivery's seed: the same for every delivery of a period (a rerun, or a count
    unchanged in a redelivery, rounds as before), unrelated between periods."""
    mac = hmac.HMAC(key, hashes.SHA256())
    mac.update(what.encode())
    return mac.finalize()


def names(out: Path, period: Period, delivery: int) -> dict[str, Path]:
    stem = out / f"{STEM}-{period}-d{delivery}"
    return {
        "file": stem.with_suffix(".csv"),
        "self_check": stem.with_suffix(".selfcheck.json"),
        "manifest": stem.with_suffix(".manifest.json"),
        "schema": out / SCHEMA_NAME,
    }


def export_cbs(
    sources: CbsSources,
    recipient_id: str,
    period_text: str,
    out: Path,
    as_of: datetime,
    operator: str,
    delivery: int | None = None,
) -> CbsDelivery:
    """Writes the delivery's files to `out` after logging it; CbsExportError when refused."""
    try:
        register = RecipientRegister.load(sources.register_path)
        recipient = register.statistics_recipient(recipient_id)
        period = Period.parse(period_text)
    except (RecipientRegisterError, UnknownRecipientError, PeriodError) as error:
        raise CbsExportError(str(error)) from error
    if "H" not in period.name:
        raise CbsExportError(f"{period} is not a half-year: CBS counts per half-year (2026H2)")
    delivery = delivery or _next_delivery(out, period)
    paths = names(out, period, delivery)
    if any(paths[k].exists() for k in ("file", "self_check", "manifest")):
        raise CbsExportError(f"delivery {delivery} of {period} exists in {out}; never overwritten")
    seed = _seed(sources.rounding_key, f"{recipient_id}|{period}")
    previous = _previous(sources, recipient, out, period, delivery)
    tables = _tables(sources.ledger, recipient, period, as_of)
    protected = protect_all(tables, seed, recipient.threshold, previous)
    found = cbs_layout.rows(str(period), delivery, protected)
    content = cbs_layout.csv_bytes(found)
    check = cbs_layout.self_check(found, protected, recipient.threshold)
    statuses = [s for result in protected for s in result.status.values()]
    payload: dict[str, Any] = {
        **register.logged_as(operator, recipient_id, recipient.legal_basis),
        "period": str(period),
        "delivery": delivery,
        "as_of": as_of.isoformat(),
        "threshold": recipient.threshold,
        "tables": [t.name for t in tables],
        "cells": len(statuses),
        **{str(s): statuses.count(s) for s in CellStatus if s is not CellStatus.PUBLISHED},
        "self_check_passed": check["passed"],
        "sha256": hashlib.sha256(content).hexdigest(),  # which file, not what is in it
    }
    manifest = {key: payload[key] for key in ("recipient", "period", "delivery", "as_of")}
    manifest |= {"threshold": recipient.threshold, "sha256": payload["sha256"]}
    # Logged first: a crash in between leaves a logged delivery that was not written, never a
    # written one that was not logged.
    entry = sources.access_log.append(EntryKind.EXPORT, payload)
    manifest["access_log_seq"] = entry.seq
    schema = orjson.dumps(cbs_layout.json_schema(), option=orjson.OPT_INDENT_2)
    files = {
        paths["file"]: content,
        paths["self_check"]: orjson.dumps(check, option=orjson.OPT_INDENT_2),
        paths["manifest"]: orjson.dumps(manifest, option=orjson.OPT_INDENT_2),
    }
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not paths["schema"].exists():
        files[paths["schema"]] = schema
    for path, body in files.items():
        if not write_secret_file(path, body):
            raise CbsExportError(f"{path} appeared while exporting; logged as seq {entry.seq}")
    return CbsDelivery(entry, list(files), check)


def _tables(
    ledger: SignalLedger, recipient: StatisticsRecipient, period: Period, as_of: datetime
) -> list[Table]:
    """The tables the recipient may receive (its dimensions), as the store held them."""
    return [
        t
        for t in cbs_tables(history_as_of(ledger, as_of), period)
        if TABLE_DIMENSION.get(t.name, t.name.partition("_by_")[2]) in recipient.dimensions
    ]


def _next_delivery(out: Path, period: Period) -> int:
    delivered = [
        int(p.name.removesuffix(".manifest.json").rpartition("-d")[2])
        for p in out.glob(f"{STEM}-{period}-d*.manifest.json")
    ]
    return max(delivered, default=0) + 1


def _previous(
    sources: CbsSources,
    recipient: StatisticsRecipient,
    out: Path,
    period: Period,
    delivery: int,
) -> Mapping[str, Mapping[Cell, int]]:
    """Per table, the true counts (as the store held them then) of the cells the previous
    delivery published: what an attacker holding both deliveries knows."""
    if delivery == 1:
        return {}
    earlier = names(out, period, delivery - 1)
    try:
        manifest = orjson.loads(earlier["manifest"].read_bytes())
        statuses = cbs_layout.read_statuses(earlier["file"].read_text(encoding="utf-8"))
    except (OSError, orjson.JSONDecodeError) as error:
        raise CbsExportError(
            f"delivery {delivery - 1} of {period} cannot be read from {out}: the next one "
            "must know what it published"
        ) from error
    then = datetime.fromisoformat(manifest["as_of"])
    return {
        table.name: {
            cell: table.counts[cell]
            for cell, status in statuses.get(table.name, {}).items()
            if status == CellStatus.PUBLISHED and cell in table.counts
        }
        for table in _tables(sources.ledger, recipient, period, then)
    }
