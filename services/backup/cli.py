"""`radar backup ...`: data backups, key backups kept apart, restores, and the key check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from services.backup import service
from services.backup.key_check import KeyProblem, refusal_text
from services.backup.manifest import BackupError
from services.backup.postgres_copy import PostgresToolError
from services.logs import command_settings
from services.settings import Settings

backup_cli = typer.Typer(help="Backups of the data and, kept apart, of the keys; restores.")

Directory = Annotated[Path, typer.Argument(help="A new (or empty) directory.", file_okay=False)]


def _refused(error: Exception) -> typer.Exit:
    typer.echo(f"radar backup: {error}", err=True)
    return typer.Exit(2)


@backup_cli.command("create")
def create_command(directory: Directory) -> None:
    """Copy every database of the radar into DIR, consistently while it runs (SQLite: the
    online backup API; PostgreSQL: pg_dump of one snapshot), with a manifest.json; no keys."""
    settings = command_settings("backup")
    try:
        manifest = service.create(settings, directory)
    except (BackupError, PostgresToolError) as error:
        raise _refused(error) from None
    store = manifest["event_store"] or {}
    typer.echo(
        f"backed up {', '.join(manifest['databases'])} to {directory} up to notification "
        f"{store.get('last_notification_id', 0)}; the keys are not in it: "
        "`radar backup keys DIR` copies them, to be kept apart"
    )


@backup_cli.command("keys")
def keys_command(directory: Directory) -> None:
    """Copy the key files (KEK, lookup-digest key, pseudonym, token, identifier and checkpoint
    keys) into DIR with a manifest of their SHA-256; keep it apart from the data backups."""
    settings = command_settings("backup")
    try:
        manifest = service.backup_keys(settings, directory)
    except BackupError as error:
        raise _refused(error) from None
    typer.echo(f"copied {len(manifest['files'])} key files to {directory}: keep them apart")


@backup_cli.command("restore")
def restore_command(
    directory: Annotated[Path, typer.Argument(help="A data backup (`radar backup create`).")],
    keys: Annotated[
        Path | None,
        typer.Option(help="A key backup (`radar backup keys`) to put into the keys directory."),
    ] = None,
) -> None:
    """Restore a data backup into the empty databases the settings name (and a key backup
    into the empty keys directory); exit 1, naming them, while key files are missing or wrong."""
    settings = command_settings("backup")
    try:
        problems = service.restore(settings, directory, keys)
    except (BackupError, PostgresToolError) as error:
        raise _refused(error) from None
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    typer.echo(f"restored {', '.join(manifest['databases'])} from {directory}")
    _report(settings, problems)


@backup_cli.command("restore-keys")
def restore_keys_command(
    keys: Annotated[Path, typer.Argument(help="A key backup (`radar backup keys`).")],
) -> None:
    """Put a key backup into the empty keys directory (after `radar backup restore`); exit 1,
    naming them, while key files are still missing or wrong."""
    settings = command_settings("backup")
    try:
        problems = service.restore_keys(settings, keys)
    except BackupError as error:
        raise _refused(error) from None
    typer.echo(f"restored the keys of {keys} into {settings.keys_dir}")
    _report(settings, problems)


@backup_cli.command("check")
def check_command() -> None:
    """Check that the keys directory holds the keys the data was written with (what every
    serving process checks at its start); exit 1, naming the files, when it does not. When
    they fit, a restore not signed yet is signed (its first checkpoint carries its lineage)."""
    settings = command_settings("backup")
    _report(settings, service.check(settings))


def _report(settings: Settings, problems: list[KeyProblem]) -> None:
    if problems:
        typer.echo(refusal_text(settings.keys_dir, problems), err=True)
        raise typer.Exit(1)
    typer.echo(f"the keys in {settings.keys_dir} fit the data")
