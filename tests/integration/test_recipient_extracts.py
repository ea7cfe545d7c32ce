"""Extracts for external recipients: the recipient register, the pure record mapping, and
`radar export signals` over a real read model on SQLite and PostgreSQL. Two recipients' extracts
of the same signals share no pseudonym, carry only their fields and months instead of dates, and
each export is one access-log entry with counts and no content."""

from __future__ import annotations

import random
import re
import stat
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from contracts.bsn import synthetic_bsn
from contracts.vocabulary import SIGNAL_TYPES, Sector
from privacy.addresses import HomeAddress
from privacy.pseudonyms import Pseudonymiser, PseudonymKeyring
from privacy.recipients import (
    DEFAULT_RECIPIENTS,
    EXTRACT_FIELDS,
    RecipientRegister,
    RecipientRegisterError,
    UnknownRecipientError,
)
from privacy.storage.access_log import AccessLog, EntryKind
from radar.extracts import extract, extract_record, occurred_month
from radar.timeline import TimelineEntry
from services.audit.compliance import check_access
from services.audit.report import access_html
from services.cli import app
from services.database import Database
from services.rights.export_cli import ExportError, Window, export_signals
from services.settings import Settings
from services.timelines.store import TimelineStore

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


# --- the register -------------------------------------------------------------------------------


def test_shipped_register_is_valid() -> None:
    register = RecipientRegister.load(DEFAULT_RECIPIENTS)
    assert {RESEARCH, INSPECTION} <= set(register.recipients)
    for recipient in register.recipients.values():
        assert recipient.fields <= EXTRACT_FIELDS
        assert not {Sector.MENTAL_HEALTH, Sector.HEALTHCARE} & recipient.sectors
    assert "persons" not in register.recipient(INSPECTION).fields


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (('"region", "household"', '"region", "occurred_at"'), "unknown fields"),
        (('"region", "household"', '"region", "signal_id"'), "unknown fields"),
        ((f"recipients.{RESEARCH}]", "recipients.WODC.research]"), "should match pattern"),
        (('legal_basis = "AVG art. 89"', ""), "legal_basis"),
        (('"police", "education"', '"police", "shops"'), "sectors"),
        (("min_records = 2", "min_records = 0"), "min_records"),
        (("min_records = 2", "min_records = 2\nmax_records = 9"), "max_records"),
        (('fields = ["signal_type", "occurred_month", "household"]', "fields = []"), "fields"),
        (("version = 3", "version = 0"), "version"),
        (("version = 3", "version = = 3"), "line 2"),  # not TOML
    ],
)
def test_malformed_register_refused_with_reason(
    tmp_path: Path, change: tuple[str, str], reason: str
) -> None:
    assert change[0] in TEST_REGISTER
    path = tmp_path / "recipients.toml"
    path.write_text(TEST_REGISTER.replace(*change), encoding="utf-8")
    with pytest.raises(RecipientRegisterError) as raised:
        RecipientRegister.load(path)
    assert str(path) in str(raised.value) and reason in str(raised.value)


def test_unknown_recipient_names_the_known_ones(tmp_path: Path) -> None:
    register = _register(tmp_path)
    with pytest.raises(UnknownRecipientError, match=f"'cbs'.*{INSPECTION}, {RESEARCH}"):
        register.recipient("cbs")


# --- the records --------------------------------------------------------------------------------


def test_record_carries_only_the_recipients_fields(tmp_path: Path) -> None:
    register = _register(tmp_path)
    signal = _people_and_signals(1)[0]
    pseudonymiser = Pseudonymiser(KEYRING)
    for recipient_id, recipient in register.recipients.items():
        record = extract_record(signal, recipient, pseudonymiser.for_recipient(recipient_id))
        assert record is not None and set(record) == recipient.fields
    inspection = extract_record(
        signal, register.recipient(INSPECTION), pseudonymiser.for_recipient(INSPECTION)
    )
    assert inspection == {
        "signal_type": signal.signal_type,
        "occurred_month": "2026-03",
        "household": pseudonymiser.for_recipient(INSPECTION).household(signal.household),
    }


def test_signals_of_other_sectors_are_left_out(tmp_path: Path) -> None:
    register = _register(tmp_path)
    signals = _people_and_signals(12)
    records = extract(
        signals, register.recipient(INSPECTION), Pseudonymiser(KEYRING).for_recipient(INSPECTION)
    )
    allowed = [s for s in signals if s.sector in {"police", "veilig_thuis"}]
    assert 0 < len(records) == len(allowed) < len(signals)
    # In the order of their own content, not of signal ids or times: no join on row numbers.
    assert records == sorted(records, key=lambda r: orjson.dumps(r, option=orjson.OPT_SORT_KEYS))


@pytest.mark.parametrize(
    ("moment", "month"),
    [
        (datetime(2026, 3, 31, 21, 59, tzinfo=UTC), "2026-03"),
        (datetime(2026, 3, 31, 22, 0, tzinfo=UTC), "2026-04"),  # midnight in summer time
        (datetime(2025, 12, 31, 23, 0, tzinfo=UTC), "2026-01"),  # midnight in winter time
    ],
)
def test_month_is_the_dutch_calendar_month(moment: datetime, month: str) -> None:
    signal = _people_and_signals(1)[0]
    assert occurred_month(_at(signal, moment)) == month


# --- the export, on a real read model -----------------------------------------------------------


def test_two_recipients_extracts_cannot_be_joined(tmp_path: Path, database: Database) -> None:
    settings, engine, keyring = _radar(tmp_path, database)
    signals = _people_and_signals(30, keyring)
    _store(engine, signals)
    files = {r: tmp_path / f"{r}.jsonl" for r in (RESEARCH, INSPECTION)}
    for recipient, out in files.items():
        export_signals(settings, recipient, Window(), out, "fg-1")
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    texts = {r: out.read_text(encoding="utf-8") for r, out in files.items()}
    records = {r: [orjson.loads(line) for line in text.splitlines()] for r, text in texts.items()}
    register = _register(tmp_path)

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
    report = check_access(engine)
    assert [e["recipient"] for e in report.exports] == [RESEARCH, INSPECTION]
    assert report.lawful and report.accesses_checked == 0
    html = access_html(orjson.loads(orjson.dumps(report.as_dict(), default=str)))
    assert "Extracts for external recipients (2)" in html and INSPECTION in html
    engine.dispose()


def test_export_covers_the_window_in_dutch_days(tmp_path: Path, database: Database) -> None:
    settings, engine, keyring = _radar(tmp_path, database)
    police = [s for s in _people_and_signals(40, keyring) if s.sector == "police"][:4]
    moments = [
        datetime(2026, 2, 28, 22, 59, tzinfo=UTC),  # 28 Feb in the Netherlands: before
        datetime(2026, 2, 28, 23, 0, tzinfo=UTC),  # 1 March, 00:00 in the Netherlands
        datetime(2026, 3, 31, 21, 59, tzinfo=UTC),  # 31 March, 23:59 in summer time
        datetime(2026, 3, 31, 22, 0, tzinfo=UTC),  # 1 April in the Netherlands: after
    ]
    _store(engine, [_at(s, m) for s, m in zip(police, moments, strict=True)])
    out = tmp_path / "march.jsonl"
    entry = export_signals(
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
    _store(engine, _people_and_signals(10, keyring))
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
    _store(engine, [s for s in _people_and_signals(10, keyring) if s.sector == "police"][:1])
    out, window = tmp_path / "out.jsonl", Window()
    if problem == "file exists":
        out.write_text("earlier extract\n")
    if problem == "since after until":
        window = Window(date(2026, 3, 2), date(2026, 3, 1))
    with pytest.raises(ExportError):
        export_signals(settings, RESEARCH, window, out, "fg-1")  # min_records = 2
    assert out.read_text() == "earlier extract\n" if problem == "file exists" else not out.exists()
    assert not _exports(engine)
    engine.dispose()


def test_export_needs_the_radars_keyring(tmp_path: Path, sqlite_database: Database) -> None:
    """A new key would give pseudonyms unrelated to the recipient's earlier extracts."""
    settings = _settings(tmp_path, sqlite_database)
    with pytest.raises(ExportError, match="no pseudonym keyring"):
        export_signals(settings, INSPECTION, Window(), tmp_path / "out.jsonl", "fg-1")
    assert not settings.pseudonym_keyring_path.exists()


# --- helpers ------------------------------------------------------------------------------------


def _register(tmp_path: Path) -> RecipientRegister:
    path = tmp_path / "recipients.toml"
    path.write_text(TEST_REGISTER, encoding="utf-8")
    return RecipientRegister.load(path)


def _settings(tmp_path: Path, database: Database) -> Settings:
    _register(tmp_path)
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


def _people_and_signals(count: int, keyring: PseudonymKeyring = KEYRING) -> list[TimelineEntry]:
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


def _at(signal: TimelineEntry, moment: datetime) -> TimelineEntry:
    return TimelineEntry(**{**signal.__dict__, "occurred_at": moment, "signal_id": uuid.uuid4()})


def _store(engine: Engine, signals: list[TimelineEntry]) -> None:
    store = TimelineStore(engine)
    store.apply(signals, expected=store.position(), new_position=store.position() + len(signals))


def _pseudonyms(records: list[dict[str, Any]]) -> set[str]:
    found = {r["household"] for r in records}
    return found | {p["pseudonym"] for r in records for p in r.get("persons", [])}


def _exports(engine: Engine) -> list[Any]:
    return [e for e in AccessLog(engine).entries() if e.kind == EntryKind.EXPORT]
