"""`radar --help` lists every command with its own help without importing the command modules
(issue 22: it took seconds). That importing the CLI loads no database, web or Kafka library is
checked in a fresh process (tests/e2e/test_cli_imports.py); the surface itself is held by
tests/unit/test_interface_unchanged.py."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
import typer.main

from services.cli import COMMANDS, app


def _help_of(group: Any, capsys: pytest.CaptureFixture[str]) -> str:
    group.main(["--help"], prog_name="radar", standalone_mode=False)
    return capsys.readouterr().out


def test_radar_help_lists_every_command_as_its_own_help_says(
    capsys: pytest.CaptureFixture[str],
) -> None:
    listed = _help_of(typer.main.get_command(app), capsys)
    everything_imported = typer.main.get_command(app)
    for name in list(everything_imported.commands):
        everything_imported.commands[name]  # imports the command's module
    assert listed == _help_of(everything_imported, capsys)
    for name in COMMANDS:
        assert f" {name} " in listed


@pytest.mark.parametrize("name", [name for name, where in COMMANDS.items() if where is not None])
def test_each_summary_is_the_first_paragraph_of_the_commands_help(name: str) -> None:
    elsewhere = COMMANDS[name]
    assert elsewhere is not None
    command = typer.main.get_command(app).commands[name]
    assert command.name == name
    first_paragraph = inspect.cleandoc(command.help or "").split("\n\n")[0]
    assert elsewhere.summary == first_paragraph, f"update the summary of {name} in services/cli.py"


def test_the_table_names_every_command_once_in_the_order_radar_help_lists_them() -> None:
    root = typer.main.get_command(app)
    assert list(root.commands) == list(COMMANDS)  # a command missing from it comes last
    for name, elsewhere in COMMANDS.items():
        if elsewhere is None:  # defined in services/cli.py itself
            assert root.commands[name].name == name
