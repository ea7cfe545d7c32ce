"""Extracts for external recipients, the pure part: the recipient register (shipped and
malformed), the record mapping that carries only a recipient's fields, and the Dutch calendar
month instead of a date. `radar export signals` over a real read model is in
tests/integration/test_recipient_extracts.py."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from contracts.vocabulary import Sector
from privacy.pseudonyms import Pseudonymiser
from privacy.recipients import (
    DEFAULT_RECIPIENTS,
    EXTRACT_FIELDS,
    RecipientRegister,
    RecipientRegisterError,
    UnknownRecipientError,
)
from radar.extracts import extract, extract_record, occurred_month
from tests.support.recipients import (
    INSPECTION,
    KEYRING,
    RESEARCH,
    TEST_REGISTER,
    moved_to,
    people_and_signals,
    write_register,
)

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
    register = write_register(tmp_path)
    with pytest.raises(UnknownRecipientError, match=f"'cbs'.*{INSPECTION}, {RESEARCH}"):
        register.recipient("cbs")


# --- the records --------------------------------------------------------------------------------


def test_record_carries_only_the_recipients_fields(tmp_path: Path) -> None:
    register = write_register(tmp_path)
    signal = people_and_signals(1)[0]
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
    register = write_register(tmp_path)
    signals = people_and_signals(12)
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
    signal = people_and_signals(1)[0]
    assert occurred_month(moved_to(signal, moment)) == month
