"""`radar admin ...`: credentials and keys: tokens, revocation, and the rotation of every key
the radar holds (sealed identifiers, pseudonyms, the KEK, token signing).

The databases (SQLAlchemy, the composition root) are imported by the commands that use them,
so that `radar admin token`, run by hand, answers at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from contracts.regions import VtRegion
from contracts.vocabulary_v2 import SectorV2
from privacy.actors import Analyst, AnalystRole, Publisher
from privacy.credentials import (
    Audience,
    TokenAuthority,
    UnusableLifetimeError,
    certificate_der,
    token_id,
    token_lifetime,
)
from privacy.identifier_keys import IdentifierKeyring
from privacy.key_encryption import FileKeyEncryptionKey
from privacy.pseudonyms import PseudonymKeyring
from services.operator import checked_name
from services.settings import Settings

admin = typer.Typer(help="Credentials and keys.")


@admin.command("token")
def issue_token(
    kind: Annotated[str, typer.Argument(help="publisher or analyst")],
    subject: Annotated[str, typer.Option(help="Who the token is for (user or system id).")],
    organisation: Annotated[str, typer.Option(help="Organisation id, e.g. politie-utrecht.")],
    sector: Annotated[SectorV2 | None, typer.Option(help="Publisher's sector.")] = None,
    role: Annotated[AnalystRole | None, typer.Option(help="Analyst's role.")] = None,
    region: Annotated[VtRegion | None, typer.Option(help="Analyst's VT region.")] = None,
    hours: Annotated[float, typer.Option(help="Lifetime in hours.")] = 8.0,
    on_behalf_of: Annotated[
        str | None,
        typer.Option(help="Analyst acts for this user (the responsible user in the access log)."),
    ] = None,
    client_cert: Annotated[
        Path | None,
        typer.Option(
            help="Publisher: bind the token to this client certificate (PEM or DER), for an "
            "ingest API with mutual TLS (RADAR_INGEST_CLIENT_CA).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Print a signed token for a publisher (ingest API) or an analyst (query API)."""
    try:
        lifetime = token_lifetime(hours)
    except UnusableLifetimeError as error:
        typer.echo(f"--hours {hours:g}: {error}; no token was made", err=True)
        raise typer.Exit(2) from None
    if client_cert is not None and kind != "publisher":
        raise typer.BadParameter("--client-cert binds publisher tokens only (the ingest API)")
    authority = TokenAuthority(Settings().keys_dir)
    if kind == "publisher" and sector is not None:
        publisher = Publisher(subject, organisation, sector)
        certificate = None if client_cert is None else _certificate(client_cert)
        typer.echo(authority.issue(publisher, Audience.INGEST, lifetime, certificate))
    elif kind == "analyst" and role is not None and region is not None:
        responsible = checked_name(on_behalf_of, "--on-behalf-of")
        analyst = Analyst(subject, organisation, role, region, responsible)
        typer.echo(authority.issue(analyst, Audience.QUERY, lifetime))
    else:
        raise typer.BadParameter("publisher needs --sector; analyst needs --role and --region")


def _certificate(path: Path) -> bytes:
    """The DER of the certificate in a file; exit 2, saying so, when the file holds none."""
    try:
        return certificate_der(path.read_bytes())
    except ValueError as error:
        typer.echo(f"--client-cert {path}: {error}; no token was made", err=True)
        raise typer.Exit(2) from None


@admin.command("revoke")
def revoke_token(
    token_or_id: Annotated[str, typer.Argument(help="The token, or its id (jti).")],
    reason: Annotated[str, typer.Option(help="Why it is revoked (no personal data).")],
) -> None:
    """Revoke a credential before it expires; every service refuses it within seconds."""
    from privacy.storage.revocations import RevocationList
    from services import bootstrap
    from services.logs import command_settings

    settings = command_settings("admin")
    jti = token_id(token_or_id) if token_or_id.count(".") == 2 else token_or_id
    RevocationList(bootstrap.database(settings).engine()).revoke(jti, reason)
    typer.echo(f"revoked {jti}")


@admin.command("rotate-identifier-key")
def rotate_identifier_key() -> None:
    """Add a new key pair for sealed identifiers; publishers get it from the ingest API after
    its restart, and values sealed to older keys still open."""
    typer.echo(IdentifierKeyring.rotate(Settings().keys_dir))


@admin.command("rotate-pseudonym-key")
def rotate_pseudonym_key() -> None:
    """Add a pseudonymisation key version that makes every pseudonym from now on. Ingest
    picks it up at its next request; the identity vault links each household's and person's
    new pseudonym to the one the radar first knew, so nobody is split in two."""
    typer.echo(PseudonymKeyring.rotate(Settings().pseudonym_keyring_path))


@admin.command("rotate-kek")
def rotate_kek() -> None:
    """Add a key-encryption-key version and re-wrap every data key (event store and vault)
    under it; event payloads and vault rows are not touched."""
    from services import bootstrap

    settings = Settings()
    kek_id = FileKeyEncryptionKey.rotate(bootstrap.database(settings).kek_path())
    rewrapped = bootstrap.rewrap_data_keys(settings)
    typer.echo(f"{kek_id}: re-wrapped {rewrapped} data keys")


@admin.command("retire-kek")
def retire_kek(
    kek_id: Annotated[str, typer.Argument(help="The KEK version to remove, e.g. kek1.")],
) -> None:
    """Remove an old KEK version once no data key is wrapped under it. Copies of wrapped keys
    in pg_wal, replicas and backups taken before (including keys destroyed at retention since)
    then open with nothing: the step that makes an erasure reach the backups."""
    from services import bootstrap
    from services.logs import command_settings

    settings = command_settings("admin")
    kek = bootstrap.database(settings).key_encryption_key()
    if kek_id == kek.current_id:
        typer.echo(f"{kek_id} is the current KEK; run `radar admin rotate-kek` first", err=True)
        raise typer.Exit(2)
    left = bootstrap.still_wrapped_under(settings, kek_id)
    if left:
        typer.echo(
            f"{left} data keys are still wrapped under {kek_id}; run `radar admin rotate-kek` "
            "(it re-wraps them) and try again",
            err=True,
        )
        raise typer.Exit(2)
    kek.retire(kek_id)
    typer.echo(f"retired {kek_id}: what was wrapped under it opens no more")


@admin.command("rotate-signing-key")
def rotate_signing_key() -> None:
    """Add a new token signing key; older keys keep verifying the tokens they signed."""
    typer.echo(TokenAuthority.rotate(Settings().keys_dir))
