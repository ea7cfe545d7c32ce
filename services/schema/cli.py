"""`radar db ...`: where the databases' schemas stand, and migrating them to this radar's."""

from __future__ import annotations

import typer

from services.database import Database
from services.logs import command_settings
from services.schema.migrate import SchemaMismatchError, schema_state, upgrade_database
from services.settings import Settings

db_cli = typer.Typer(help="The databases' schema: its revision, and migrating it.")


def configured_databases(settings: Settings) -> list[Database]:
    """The radar's database and, when it is another one, the identity vault's."""
    radar = Database.of(settings)
    vault = Database(settings.resolved_vault_url, settings.keys_dir)
    return [radar] if vault.url == radar.url else [radar, vault]


@db_cli.command("current")
def current_command() -> None:
    """Print each database's schema revision against this radar's newest; exit status 1 when
    one is not at it."""
    behind = False
    for database in configured_databases(command_settings("db")):
        engine = database.unchecked_engine()
        try:
            with engine.connect() as connection:
                state = schema_state(connection)
        finally:
            engine.dispose()
        behind = behind or not (state.current or state.empty)
        typer.echo(f"{database.display_url}: {state.describe()}")
    if behind:
        raise typer.Exit(1)


@db_cli.command("upgrade")
def upgrade_command() -> None:
    """Migrate each database to this radar's newest schema revision (take a backup first:
    `radar backup create`). A database already at it is left as it is."""
    for database in configured_databases(command_settings("db")):
        try:
            before, after = upgrade_database(database)
        except SchemaMismatchError as error:
            typer.echo(f"radar db upgrade: {error}", err=True)
            raise typer.Exit(2) from None
        if before.revision == after.revision:
            typer.echo(f"{database.display_url}: already at {after.revision}, nothing to do")
        else:
            typer.echo(
                f"{database.display_url}: upgraded from {before.revision or 'no version'} "
                f"to {after.revision}"
            )
