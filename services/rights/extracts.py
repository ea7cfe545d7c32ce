"""Extracts for external recipients: the signals of a window, with only the recipient's fields
and its own pseudonyms (JSON Lines).

An extract is a disclosure, so it follows the recipient register (privacy/recipients.toml) and
is recorded in the access log (recipient, register version, fields, counts, window; never the
content) before the file appears. Nothing is written when the export is refused. A signal
recorded at a household, or naming a person, under restriction (AVG art. 18) is never exported:
no recipient has `restricted_access`; the log counts how many were withheld.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import orjson

from privacy.keyfiles import write_secret_file
from privacy.pseudonyms import RecipientPseudonyms
from privacy.recipients import RecipientRegister, RecipientRegisterError, UnknownRecipientError
from privacy.restriction import all_subjects, withholds
from privacy.storage.access_log import AccessLog, EntryKind, LogEntry
from privacy.storage.restrictions import RestrictionRegister
from radar.extracts import extract
from radar.safety import NETHERLANDS
from services.timelines.store import TimelineStore


class ExportError(Exception):
    """The export is refused; no file was written (and, but for a file that appeared while
    exporting, nothing was logged)."""


@dataclass(frozen=True)
class Window:
    """The days (Dutch calendar, both inclusive) whose signals an extract covers."""

    since: date | None = None
    until: date | None = None

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """[start, end) as moments: midnight in the Netherlands at either end."""
        start = None if self.since is None else datetime.combine(self.since, time(), NETHERLANDS)
        end = None
        if self.until is not None:
            end = datetime.combine(self.until + timedelta(days=1), time(), NETHERLANDS)
        return start, end

    def as_log(self) -> dict[str, str | None]:
        return {
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
        }


@dataclass(frozen=True)
class ExtractSources:
    """What an export reads and writes: the register, the signals, the access log, and the
    pseudonymiser of each recipient's own domain."""

    register_path: Path
    timelines: TimelineStore
    access_log: AccessLog
    pseudonyms_for: Callable[[str], RecipientPseudonyms]
    restrictions: RestrictionRegister


def export_signals(
    sources: ExtractSources, recipient_id: str, window: Window, out: Path, operator: str
) -> LogEntry:
    """Writes the recipient's extract of the signals in the window to `out`, after recording
    the export in the access log; returns that entry. ExportError when it is refused."""
    try:
        register = RecipientRegister.load(sources.register_path)
        recipient = register.recipient(recipient_id)
    except (RecipientRegisterError, UnknownRecipientError) as error:
        raise ExportError(str(error)) from error
    if window.since and window.until and window.since > window.until:
        raise ExportError(f"--since {window.since} is after --until {window.until}")
    if out.exists():
        raise ExportError(f"{out} exists; an extract is never overwritten")
    pseudonyms = sources.pseudonyms_for(recipient_id)
    found = [(e, e.record()) for e in sources.timelines.occurred_between(*window.bounds())]
    restricted = sources.restrictions.restricted_among(all_subjects(r for _e, r in found))
    entries = [e for e, r in found if not withholds(restricted, r)]
    records = extract(entries, recipient, pseudonyms)
    if len(records) < recipient.min_records:
        raise ExportError(
            f"only {len(records)} records for {recipient_id} in this window; the register "
            f"requires at least {recipient.min_records}, so that no household stands out"
        )
    content = b"".join(orjson.dumps(record) + b"\n" for record in records)
    payload: dict[str, Any] = {
        **register.logged_as(operator, recipient_id, recipient.legal_basis),
        "fields": sorted(recipient.fields),
        "sectors": sorted(recipient.sectors),
        "records": len(records),
        "withheld": len(found) - len(entries),  # restricted (AVG art. 18): a count, not which
        **window.as_log(),
        "pseudonym_key_id": pseudonyms.key_id,
        "sha256": hashlib.sha256(content).hexdigest(),  # which file, not what is in it
    }
    # Logged first: a crash in between leaves a logged export that was not delivered,
    # never a delivered one that was not logged.
    entry = sources.access_log.append(EntryKind.EXPORT, payload)
    if not write_secret_file(out, content):
        raise ExportError(f"{out} appeared while exporting; logged as seq {entry.seq}")
    return entry
