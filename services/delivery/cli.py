"""`radar deliver` pushes the feeds to their webhooks; `radar webhooks` is the operator's view:
register for an organisation, list, remove, the dead letters and their replay, the public key
receivers verify Ed25519 signatures with."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from contracts.regions import VtRegion
from privacy.actors import Analyst, AnalystRole
from privacy.policy import PolicyDecisionPoint
from privacy.purposes import PurposeRegister
from services import bootstrap
from services.audit.keys import public_key_pem
from services.delivery.receiver import https_server, local_certificates
from services.delivery.signing import IDEMPOTENCY_HEADER, Signing, verify, webhook_signing_key
from services.errors import Refusal
from services.logs import command_settings

webhooks_cli = typer.Typer(help="Webhooks: registrations, dead letters and their replay.")


def deliver() -> None:
    """Deliver every webhook's feed items to its receiver, signed, at least once."""
    settings = command_settings("deliver")
    deliverer = bootstrap.deliverer(settings)
    deliverer.run(bootstrap.stop_on_signals(), settings.deliverer_idle_seconds)


def _secret(path: Path | None) -> str | None:
    """A shared secret from its file (never from the command line: shells keep history)."""
    return None if path is None else path.read_text(encoding="utf-8").strip()


def _parts() -> bootstrap.Parts:
    return bootstrap.Parts(command_settings("webhooks"))


@webhooks_cli.command("add")
def add(
    organisation: Annotated[str, typer.Option(help="The receiving organisation's id.")],
    role: Annotated[AnalystRole, typer.Option(help="The role its feed is read in.")],
    region: Annotated[VtRegion, typer.Option(help="Its Veilig Thuis region.")],
    kind: Annotated[str, typer.Option(help="The feed (GET /v1/feeds/{kind}).")],
    url: Annotated[str, typer.Option(help="The receiver, https:// only.")],
    purpose: Annotated[str, typer.Option(help="The purpose the feed is read under.")],
    secret_file: Annotated[
        Path | None,
        typer.Option(help="A file holding the shared secret (hmac-sha256); else ed25519."),
    ] = None,
    after: Annotated[int, typer.Option(min=0, help="Deliver the items after this cursor.")] = 0,
) -> None:
    """Register a webhook for an organisation; prints its id (never the secret)."""
    parts = _parts()
    register = PurposeRegister.load(parts.settings.purpose_register)
    secret = _secret(secret_file)
    signing = Signing.ED25519 if secret is None else Signing.HMAC
    actor = Analyst(f"operator:{organisation}", organisation, role, region)
    try:
        made = bootstrap.webhooks(parts, PolicyDecisionPoint(register)).register(
            actor, kind, url, signing, secret, purpose, after
        )
    except Refusal as refusal:
        typer.echo(refusal.described(), err=True)
        raise typer.Exit(2) from None
    typer.echo(made.id)


@webhooks_cli.command("list")
def list_webhooks(
    organisation: Annotated[str | None, typer.Option(help="Only this organisation's.")] = None,
) -> None:
    """Every active webhook and where its deliveries stand."""
    for webhook in bootstrap.webhook_store(_parts()).active(organisation):
        typer.echo(
            f"{webhook.id}  {webhook.organisation}  {webhook.kind}  {webhook.url}  "
            f"{webhook.signing}  delivered after {webhook.delivered}  "
            f"attempts {webhook.attempts}  last {webhook.last_status or '-'}"
        )


@webhooks_cli.command("remove")
def remove(webhook: Annotated[str, typer.Argument(help="The webhook's id.")]) -> None:
    """Stop a webhook's deliveries (its dead letters stay listed)."""
    if not bootstrap.webhook_store(_parts()).remove(webhook):
        typer.echo(f"no active webhook {webhook}", err=True)
        raise typer.Exit(1)
    typer.echo(f"removed {webhook}")


@webhooks_cli.command("dead-letters")
def dead_letters(
    webhook: Annotated[str | None, typer.Option(help="Only this webhook's.")] = None,
) -> None:
    """The items given up on: which item of which feed, never its body."""
    letters = bootstrap.webhook_store(_parts()).dead_letters(webhook)
    if not letters:
        typer.echo("no dead letters")
    for letter in letters:
        state = (
            f"replayed {letter.replayed_at:%Y-%m-%dT%H:%M:%SZ}"
            if letter.replayed_at
            else ("replay asked" if letter.replay_requested_at else "dead")
        )
        typer.echo(
            f"{letter.id}  {letter.webhook}  {letter.kind}  cursor {letter.cursor}  "
            f"item {letter.item}  attempts {letter.attempts}  last {letter.last_status}  {state}"
        )


@webhooks_cli.command("replay")
def replay(
    ids: Annotated[list[int] | None, typer.Argument(help="Dead letters to deliver again.")] = None,
    webhook: Annotated[str | None, typer.Option(help="All of this webhook's.")] = None,
) -> None:
    """Ask the deliverer to deliver dead letters again (the items read anew from their feed)."""
    store = bootstrap.webhook_store(_parts())
    wanted = list(ids or [])
    if webhook is not None:
        wanted += [d.id for d in store.dead_letters(webhook) if d.replayed_at is None]
    if not wanted:
        typer.echo("name dead letters (radar webhooks dead-letters) or --webhook", err=True)
        raise typer.Exit(2)
    typer.echo(f"{store.request_replay(wanted)} dead letters to replay")


@webhooks_cli.command("public-key")
def public_key() -> None:
    """The public key receivers verify ed25519 deliveries with (PEM)."""
    settings = command_settings("webhooks")
    typer.echo(public_key_pem(webhook_signing_key(settings.keys_dir).public_key()), nl=False)


RECEIVER_DIRECTORY = "webhook-receiver"
"""Below the data directory: the local receiver's CA and certificate (make run trusts the CA)."""


@webhooks_cli.command("receive")
def receive(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Its port on 127.0.0.1.")] = 8443,
    secret_file: Annotated[
        Path | None, typer.Option(help="The shared secret to verify hmac-sha256 with.")
    ] = None,
) -> None:
    """Run a webhook receiver on https://127.0.0.1 for trying webhooks (make run).

    One line per delivery, with whether its signature holds (hmac-sha256 with the secret, or
    ed25519 with this radar's public key); it answers 200, or 401 to a signature that does not.
    """
    settings = command_settings("webhooks")
    ca, cert, key = local_certificates(settings.data_dir / RECEIVER_DIRECTORY)
    secret = None if (text := _secret(secret_file)) is None else text.encode()
    public = webhook_signing_key(settings.keys_dir).public_key()

    def took(headers: dict[str, str], body: bytes) -> int:
        valid = verify(headers, body, time.time(), secret, public)
        shown = {"id": headers.get(IDEMPOTENCY_HEADER), "signature": valid}
        typer.echo(json.dumps({**shown, "delivery": json.loads(body) if valid else None}))
        return 200 if valid else 401

    server = https_server(port, cert, key, took)
    typer.echo(f"receiving on https://127.0.0.1:{port}/ (its CA: {ca}); Ctrl-C stops", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
