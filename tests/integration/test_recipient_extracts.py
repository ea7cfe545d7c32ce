"""Extracts for external recipients: `radar export signals` over a real read model on SQLite
and PostgreSQL (the register and the pure record mapping: tests/unit/test_recipient_register.py).
Two recipients' extracts
of the same signals share no pseudonym, carry only their fields and months instead of dates, and
each export is one access-log entry with counts and no content."""

from __future__ import annotations

import re
import stat
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from privacy.pseudonyms import PseudonymKeyring
from privacy.storage.access_log import AccessLog, EntryKind
from radar.timeline import TimelineEntry
from services.audit.compliance import check_access
from services.audit.report import access_html
from services.cli import app
from services.database import Database, row_sealer
from services.rights.cli import export_for
from services.rights.extracts import ExportError, Window
from services.settings import Settings
from services.timelines.store import TimelineStore
from tests.support.recipients import (
    INSPECTION,
    RESEARCH,
    moved_to,
    people_and_signals,
    write_register,
)

# --- the export, on a real read model -----------------------------------------------------------


def test_two_recipients_extracts_cannot_be_joined(tmp_path: Path, database: Database) -> None:
    settings, engine, keyring = _radar(tmp_path, database)
    signals = people_and_signals(30, keyring)
    _store(settings, engine, signals)
    files = {r: tmp_path / f"{r}.jsonl" for r in (RESEARCH, INSPECTION)}
    for recipient, out in files.items():
        export_for(settings, recipient, Window(), out, "fg-1")
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    texts = {r: out.read_text(encoding="utf-8") for r, out in files.items()}
    records = {r: [orjson.loads(line) for line in text.splitlines()] for r, text in texts.items()}
    register = write_register(tmp_path)

    for recipient, rows in records.items():
        fields = register.recipient(recipient).fields
        sectors = register.recipient(recipient).sectors
        assert len(rows) == sum(s.sector in sectors for s in signals)
        assert all(set(row) == fields for row in rows)
        assert all(re.fullmatch(r"\d{4}-\d{2}", row["occurred_month"]) for row in rows)
        assert not re.search(r"\d{4}-\d{2}-\d{2}", texts[recipient])  # no exact date anywhere
        for signal in signals:  # nothing internal: no pseudonym, digest or signal id
            for internal in (signal.household, *(p for p, _ in signal.persons)):
                assert internal.rsplit(".", 1)[1] not in texts[recipient]
            assert str(signal.signal_id) not in texts[recipient]
    research, inspection = (_pseudonyms(records[r]) for r in (RESEARCH, INSPECTION))
    assert research and inspection
    assert all(p.startswith(f"x.{RESEARCH}.k1.") for p in research)
    assert all(p.startswith(f"x.{INSPECTION}.k1.") for p in inspection)
    digests = [{p.rsplit(".", 1)[1] for p in found} for found in (research, inspection)]
    assert not digests[0] & digests[1]
    # Within one extract a household keeps its pseudonym, so research can follow it.
    households = {s.household for s in signals if s.sector in register.recipient(RESEARCH).sectors}
    assert len({row["household"] for row in records[RESEARCH]}) == len(households)

    exports = [e for e in AccessLog(engine).entries() if e.kind == EntryKind.EXPORT]
    assert [e.payload["recipient"] for e in exports] == [RESEARCH, INSPECTION]
    for entry in exports:
        assert entry.payload["records"] == len(records[entry.payload["recipient"]])
        assert entry.payload["fields"] == sorted(
            register.recipient(entry.payload["recipient"]).fields
        )
        assert entry.payload["register_version"] == 3
        assert entry.payload["operator"] == "fg-1"
        assert (entry.payload["since"], entry.payload["until"]) == (None, None)
        logged = orjson.dumps(entry.payload).decode()
        assert not re.search(r"\b(x|hh|p)\.[a-z0-9-]*\.?k1\.", logged)  # no pseudonym at all
        assert not any(s.signal_type in logged for s in signals)  # no content
    report = check_access(database.access_log(engine))
    assert [e["recipient"] for e in report.exports] == [RESEARCH, INSPECTION]
    assert report.lawful and report.accesses_checked == 0
    html = access_html(orjson.loads(orjson.dumps(report.as_dict(), default=str)))
    assert "Extracts for external recipients (2)" in html and INSPECTION in html
    engine.dispose()


def test_export_covers_the_window_in_dutch_days(tmp_path: Path, database: Database) -> None:
    settings, engine, keyring = _radar(tmp_path, database)
    police = [s for s in people_and_signals(40, keyring) if s.sector == "police"][:4]
    moments = [
        datetime(2026, 2, 28, 22, 59, tzinfo=UTC),  # 28 Feb in the Netherlands: before
        datetime(2026, 2, 28, 23, 0, tzinfo=UTC),  # 1 March, 00:00 in the Netherlands
        datetime(2026, 3, 31, 21, 59, tzinfo=UTC),  # 31 March, 23:59 in summer time
        datetime(2026, 3, 31, 22, 0, tzinfo=UTC),  # 1 April in the Netherlands: after
    ]
    _store(settings, engine, [moved_to(s, m) for s, m in zip(police, moments, strict=True)])
    out = tmp_path / "march.jsonl"
    entry = export_for(
        settings, INSPECTION, Window(date(2026, 3, 1), date(2026, 3, 31)), out, "fg-1"
    )
    months = [orjson.loads(line)["occurred_month"] for line in out.read_text().splitlines()]
    assert months == ["2026-03", "2026-03"]
    assert (entry.payload["since"], entry.payload["until"]) == ("2026-03-01", "2026-03-31")
    assert entry.payload["records"] == 2
    engine.dispose()


def test_unknown_recipient_refused_by_the_command(
    tmp_path: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings, engine, keyring = _radar(tmp_path, database)
    _store(settings, engine, people_and_signals(10, keyring))
    monkeypatch.setenv("RADAR_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RADAR_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("RADAR_RECIPIENT_REGISTER", str(settings.recipient_register))
    out = tmp_path / "cbs.jsonl"
    command = ["export", "signals", "--out", str(out), "--since", "2026-01-01"]
    refused = CliRunner().invoke(app, [*command, "--recipient", "cbs"])
    assert refused.exit_code == 2
    assert "unknown recipient 'cbs'" in refused.stderr
    assert not out.exists()
    assert not _exports(engine)

    done = CliRunner().invoke(app, [*command, "--recipient", INSPECTION])
    assert done.exit_code == 0, done.output
    assert out.exists() and len(_exports(engine)) == 1
    engine.dispose()


@pytest.mark.parametrize("problem", ["too few records", "file exists", "since after until"])
def test_refused_export_writes_and_logs_nothing(
    tmp_path: Path, sqlite_database: Database, problem: str
) -> None:
    settings, engine, keyring = _radar(tmp_path, sqlite_database)
    _store(
        settings, engine, [s for s in people_and_signals(10, keyring) if s.sector == "police"][:1]
    )
    out, window = tmp_path / "out.jsonl", Window()
    if problem == "file exists":
        out.write_text("earlier extract\n")
    if problem == "since after until":
        window = Window(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(ExportError):
        export_for(settings, RESEARCH, window, out, "fg-1")  # min_records = 2
    assert out.read_text() == "earlier extract\n" if problem == "file exists" else not out.exists()
    assert not _exports(engine)
    engine.dispose()


def test_export_needs_the_radars_keyring(tmp_path: Path, sqlite_database: Database) -> None:
    """A new key would give pseudonyms unrelated to the recipient's earlier extracts."""
    settings = _settings(tmp_path, sqlite_database)
    with pytest.raises(ExportError, match="no pseudonym keyring"):
        export_for(settings, INSPECTION, Window(), tmp_path / "out.jsonl", "fg-1")
    assert not settings.pseudonym_keyring_path.exists()


# --- helpers ------------------------------------------------------------------------------------


def _settings(tmp_path: Path, database: Database) -> Settings:
    write_register(tmp_path)
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database.url,
        recipient_register=tmp_path / "recipients.toml",
    )


def _radar(tmp_path: Path, database: Database) -> tuple[Settings, Engine, PseudonymKeyring]:
    """Settings with the radar's keyring in place, the database's engine, and the keyring."""
    settings = _settings(tmp_path, database)
    keyring = PseudonymKeyring.load_or_create(settings.pseudonym_keyring_path)
    return settings, database.engine(), keyring


def _store(settings: Settings, engine: Engine, signals: list[TimelineEntry]) -> None:
    store = TimelineStore(engine, row_sealer(engine, settings.keys_dir))
    store.apply(signals, expected=store.position(), new_position=store.position() + len(signals))


def _pseudonyms(records: list[dict[str, Any]]) -> set[str]:
    found = {r["household"] for r in records}
    return found | {p["pseudonym"] for r in records for p in r.get("persons", [])}


def _exports(engine: Engine) -> list[Any]:
    return [e for e in AccessLog(engine).entries() if e.kind == EntryKind.EXPORT]
