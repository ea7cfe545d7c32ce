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
