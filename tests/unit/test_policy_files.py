"""A malformed retention policy (or purpose register) stops what needs it with one line that
names the file and the field, never with a traceback and never echoing a value."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from privacy.purposes import DEFAULT_REGISTER, PurposeRegister
from privacy.registers import MalformedFileError
from privacy.retention import DEFAULT_POLICY, RetentionPolicy
from services.cli import app

POLICY = DEFAULT_POLICY.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (("period_days = 730", "period_days = 0"), "kinds.signals_without_case.period_days"),
        (("period_days = 730", "period_days = 'twee jaar'"), "signals_without_case.period_days"),
        (("\nversion = ", "\nversie = "), "version: Field required"),
        (("period_days = 7305", "period_days = 7305\nperiod_weeks = 1"), "period_weeks"),
        (("\nversion = ", "\nversion = = "), "not valid TOML"),
    ],
)
def test_a_malformed_policy_is_refused_in_one_line_naming_the_file_and_the_field(
    tmp_path: Path, change: tuple[str, str], named: str
) -> None:
    assert change[0] in POLICY
    path = tmp_path / "retention.toml"
    path.write_text(POLICY.replace(*change, 1), encoding="utf-8")
    with pytest.raises(MalformedFileError) as raised:
        RetentionPolicy.load(path)
    message = str(raised.value)
    assert message.startswith(f"retention policy {path}: ") and named in message
    assert "\n" not in message and "twee jaar" not in message


def test_a_missing_policy_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MalformedFileError, match="cannot be read"):
        RetentionPolicy.load(tmp_path / "absent.toml")


def test_a_malformed_purpose_register_is_refused_the_same_way(tmp_path: Path) -> None:
    path = tmp_path / "purposes.toml"
    path.write_text(
        DEFAULT_REGISTER.read_text(encoding="utf-8").replace("version = ", "versie = ", 1)
    )
    with pytest.raises(MalformedFileError) as raised:
        PurposeRegister.load(path)
    assert f"purpose register {path}: " in str(raised.value) and "version" in str(raised.value)


@pytest.mark.parametrize("command", [["retention", "show"], ["retention", "enforce", "--dry-run"]])
def test_radar_retention_prints_one_error_line_and_no_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "retention.toml"
    path.write_text(POLICY.replace("period_days = 730", "period_days = -1"), encoding="utf-8")
    env = {"RADAR_RETENTION_POLICY": str(path), "RADAR_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(app, command, env=env)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith(f"retention policy {path}: ")
    assert "kinds.signals_without_case.period_days" in lines[-1]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (('withheld = "weight"\n', ""), "purposes.triage.withheld: Field required"),
        (('\nwithheld_reason = "Triage ranks', '\nreason = "Triage ranks'), "reason"),
        (('privacy_officer_confirms = "that triage', '# "'), "triage.privacy_officer_confirms"),
        (('withheld = "weight"', 'withheld = "points"'), "purposes.triage.withheld: Input should"),
    ],
)
def test_every_purpose_must_state_its_withheld_rule_its_reason_and_the_confirmation(
    tmp_path: Path, change: tuple[str, str], named: str
) -> None:
    """A register without the rule (or its reason, or what the privacy officer confirmed) for
    some purpose, or with a rule outside the vocabulary, stops the service at start."""
    text = DEFAULT_REGISTER.read_text(encoding="utf-8")
    assert change[0] in text
    path = tmp_path / "purposes.toml"
    path.write_text(text.replace(*change, 1), encoding="utf-8")
    with pytest.raises(MalformedFileError) as raised:
        PurposeRegister.load(path)
    message = str(raised.value)
    assert message.startswith(f"purpose register {path}: ") and named in message, message


def test_each_purpose_states_one_rule_from_the_closed_vocabulary() -> None:
    register = PurposeRegister.load()
    rules = {name: str(p.withheld) for name, p in register.purposes.items()}
    assert rules["triage"] == "weight", "triage ranks households by the weight of all signals"
    assert rules["monitoring"] == "nothing"
    assert set(rules.values()) <= {"nothing", "count", "weight"}
    for purpose in register.purposes.values():
        assert purpose.withheld_reason and purpose.privacy_officer_confirms


def test_a_register_adopted_before_the_rule_existed_still_reads_and_reveals_nothing() -> None:
    """Version 3, as the access log holds it, has no withheld fields: the audit still reads it
    (its fingerprint unchanged) and under it a purpose would have learnt nothing."""
    current = PurposeRegister.load().model_dump(mode="json")
    for purpose in current["purposes"].values():
        for field in ("withheld", "withheld_reason", "privacy_officer_confirms"):
            del purpose[field]
    old = PurposeRegister.model_validate({**current, "version": 3})
    assert all(p.withheld_rule == "nothing" for p in old.purposes.values())
    assert b"withheld" not in old.canonical_json()
