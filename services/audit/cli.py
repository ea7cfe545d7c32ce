"""`radar audit ...`: commands for auditors.

Long runs show a progress bar (rate, ETA) on stderr; Ctrl-C stops them with their work saved,
and `--resume` continues where they stopped.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from contracts.regions import VtRegion
from privacy.access_review import DEFAULT_REVIEW_POLICY, ReviewPolicy
from privacy.actors import AnalystRole
from privacy.storage.access_log import EntryKind
from services import bootstrap
from services.audit import listing, service
from services.audit import report as html_report
from services.audit.keys import public_key_pem
from services.audit.sealing import Sealer
from services.audit.snapshot import Selection
from services.audit.verify import VerifyReport
from services.operator import OperatorName, command_operator
from services.settings import Settings

audit_cli = typer.Typer(help="Replay, verify and check the logs (auditors).")

INTERRUPTED = 130


class Format(StrEnum):
    JSON = "json"
    HTML = "html"


class VerifyFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


def parse_moment(value: str) -> datetime:
    """An ISO 8601 moment; one without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise typer.BadParameter(f"not an ISO 8601 moment: {value!r}") from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


Moment = Annotated[datetime | None, typer.Option(parser=parse_moment, metavar="ISO-8601")]
Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


class AuditorRole(StrEnum):
    """The roles that read the logs on the command line."""

    AUDITOR = AnalystRole.AUDITOR.value
    PRIVACY_OFFICER = AnalystRole.PRIVACY_OFFICER.value


Role = Annotated[AuditorRole, typer.Option("--role", help="The role you read the logs in.")]


def _moment(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _log_reading(
    settings: Settings, name: str | None, role: AuditorRole, command: str, **scope: Any
) -> None:
    """Every reading of the logs is itself logged, before it reads (see record_log_access)."""
    operator = command_operator(name, AnalystRole(role.value))
    service.record_log_access(settings, operator, command, scope)


def _json(value: Any) -> str:
    return orjson.dumps(
        value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS, default=str
    ).decode()


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        typer.echo(f"written to {output}", err=True)


@contextmanager
def _resumable(command: str) -> Iterator[None]:
    """Turns a run that cannot start into exit 2 with the reason, and Ctrl-C into a hint
    that `--resume` continues where it stopped."""
    try:
        yield
    except service.AuditError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from error
    except KeyboardInterrupt:
        typer.echo(
            f"\ninterrupted; `radar audit {command} --resume` continues where it stopped",
            err=True,
        )
        raise typer.Exit(INTERRUPTED) from None


@audit_cli.command("replay")
def replay_command(
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            parser=parse_moment,
            metavar="ISO-8601",
            help="Replay the events recorded at or before this moment (UTC if no zone).",
        ),
    ] = None,
    household: Annotated[str | None, typer.Option(help="Only this household (pseudonym).")] = None,
    region: Annotated[
        VtRegion | None, typer.Option(help="Only this VT region's households.")
    ] = None,
    purpose: Annotated[
        str | None,
        typer.Option(
            help="Show timelines as this purpose disclosed them, under the register then in force."
        ),
    ] = None,
    output_format: Annotated[Format, typer.Option("--format")] = Format.JSON,
    output: Output = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted replay.")] = False,
    quiet: Quiet = False,
    operator: OperatorName = None,
    role: Role = AuditorRole.AUDITOR,
) -> None:
    """Rebuild every read model as it was at a moment, in a throw-away database, and report it."""
    if household and region:
        raise typer.BadParameter("give --household or --region, not both")
    settings = Settings()
    selection = Selection(household, str(region) if region else None)
    _log_reading(
        settings, operator, role, "replay", as_of=_moment(as_of), resume=resume,
        household=household, region=selection.region, purpose=purpose,
    )  # fmt: skip
    with _resumable("replay"):
        result = service.replay_report(
            settings,
            bootstrap.read_models,
            as_of,
            selection,
            purpose,
            service.replay_work_file(settings),
            resume,
            show_progress=not quiet,
        )
    _emit(
        html_report.replay_html(result) if output_format == Format.HTML else _json(result), output
    )


@audit_cli.command("verify")
def verify_command(
    kafka: Annotated[
        bool,
        typer.Option(help="Compare with the checkpoints published on Kafka (the default copy)."),
    ] = True,
    checkpoints_file: Annotated[
        Path | None,
        typer.Option(
            help="Compare with your own copy of the checkpoints (from `radar audit checkpoints "
            "export FILE`) instead of Kafka.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(help="The checkpoint public key as the auditor keeps it (PEM)."),
    ] = None,
    output_format: Annotated[VerifyFormat, typer.Option("--format")] = VerifyFormat.TEXT,
    output: Output = None,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted verification.")] = False,
    quiet: Quiet = False,
    operator: OperatorName = None,
    role: Role = AuditorRole.AUDITOR,
) -> None:
    """Verify the event store (hash chain, signed checkpoints) and the access log; exit 1 on
    any fault, naming where it is; say what a check without an external copy cannot see."""
    settings = Settings()
    use_kafka = kafka and checkpoints_file is None
    _log_reading(settings, operator, role, "verify", kafka=use_kafka, resume=resume)
    with _resumable("verify"):
        result = service.verify_report(
            settings,
            use_kafka,
            public_key,
            service.verify_work_file(settings),
            resume,
            show_progress=not quiet,
            checkpoints_file=checkpoints_file,
        )
    if output_format == VerifyFormat.JSON:
        _emit(_json(result.as_dict()), output)
    elif output_format == VerifyFormat.HTML:
        _emit(html_report.verify_html(orjson.loads(_json(result.as_dict()))), output)
    else:
        _emit("\n".join(_verify_lines(result)), output)
    raise typer.Exit(0 if result.intact else 1)


def _verify_lines(result: VerifyReport) -> list[str]:
    store = result.event_store
    copy = store["checkpoints_in_copy"]
    return [
        f"event store: {store['records']} records, sealed up to notification "
        f"{store['sealed_up_to']}, {store['unsealed_records']} not yet sealed, "
        f"{store['checkpoints']} checkpoints"
        + ("" if copy is None else f" ({copy} on {result.external_copy})"),
        f"access log: {result.access_log['entries']} entries",
        *(f"FAULT {fault.line()}" for fault in result.faults),
        *(f"RESTORE {restore['notice']}" for restore in result.restores),
        result.verdict,
        result.cannot_see,
    ]


class AccessFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


@audit_cli.command("access")
def access_command(
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since", "--from", parser=parse_moment, metavar="ISO-8601", help="From (inclusive)."
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(
            "--until", "--to", parser=parse_moment, metavar="ISO-8601", help="To (inclusive)."
        ),
    ] = None,
    subject: Annotated[
        str | None, typer.Option(help="Only entries about this household or person (pseudonym).")
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            help="Only entries by this user, responsible user or operator (or claiming to be)."
        ),
    ] = None,
    purpose: Annotated[str | None, typer.Option(help="Only entries for this purpose.")] = None,
    kind: Annotated[EntryKind | None, typer.Option(help="Only entries of this kind.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
    output_format: Annotated[AccessFormat, typer.Option("--format")] = AccessFormat.TEXT,
    output: Output = None,
    quiet: Quiet = False,
    operator: OperatorName = None,
    role: Role = AuditorRole.AUDITOR,
) -> None:
    """List every entry of the access log in the period (filtered, each with a category an
    auditor reads: toegestaan, geweigerd: ..., break-glass), and re-decide every access under
    the purpose register then in force: unlawful accesses, break-glass uses with their review,
    accesses across regions. Exit 1 when an access was unlawful or the log is damaged."""
    settings = Settings()
    filters = listing.Filters(subject, actor, purpose, kind)
    _log_reading(
        settings, operator, role, "access", since=_moment(since), until=_moment(until),
        filters=filters.as_dict(),
    )  # fmt: skip
    try:
        result = service.access_report(settings, since, until, show_progress=not quiet)
        rows = listing.access_listing(settings, since, until, filters)
    except KeyboardInterrupt:
        typer.echo("\ninterrupted; nothing was changed, run it again", err=True)
        raise typer.Exit(INTERRUPTED) from None
    values = orjson.loads(
        _json({**result.as_dict(), "filters": filters.as_dict(), "entries": rows})
    )
    if output_format == AccessFormat.HTML:
        _emit(html_report.access_html(values), output)
    elif as_json or output_format == AccessFormat.JSON:
        _emit(_json(values), output)
    else:
        _emit("\n".join([*listing.text_lines(rows), _findings_line(values)]), output)
    raise typer.Exit(0 if result.lawful else 1)


def _findings_line(values: dict[str, Any]) -> str:
    """What the compliance check found, in one line under the listing."""
    counts = {
        "onrechtmatig": len(values["unlawful"]),
        "break-glass": len(values["break_glass"]),
        "bovenregionaal": len(values["cross_region"]),
        "integriteitsfouten": len(values["integrity"]),
    }
    found = ", ".join(f"{name}: {count}" for name, count in counts.items())
    verdict = "rechtmatig" if values["lawful"] else "NIET rechtmatig"
    checked = values["accesses_checked"]
    return f"{len(values['entries'])} entries; {checked} herbeoordeeld: {verdict} ({found})"


class ReviewFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@audit_cli.command("review")
def review_command(
    since: Annotated[
        datetime | None,
        typer.Option("--since", parser=parse_moment, metavar="ISO-8601", help="From (inclusive)."),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option("--until", parser=parse_moment, metavar="ISO-8601", help="To (inclusive)."),
    ] = None,
    policy: Annotated[
        Path, typer.Option(help="The review's thresholds (TOML).")
    ] = DEFAULT_REVIEW_POLICY,
    output_format: Annotated[ReviewFormat, typer.Option("--format")] = ReviewFormat.TEXT,
    output: Output = None,
    operator: OperatorName = None,
    role: Role = AuditorRole.PRIVACY_OFFICER,
) -> None:
    """The privacy officer's proactive review (NEN 7513): unusual access in the window (many
    households outside the worklist, odd hours, repeated break-glass, one person looked up
    across regions), in Dutch or as JSON. Exit 1 when something was found."""
    thresholds = ReviewPolicy.load(policy)
    settings = Settings()
    _log_reading(
        settings, operator, role, "review", since=_moment(since), until=_moment(until),
        policy_version=thresholds.version,
    )  # fmt: skip
    result = bootstrap.access_review(settings, since, until, thresholds)
    _emit(_json(result.as_dict()) if output_format == ReviewFormat.JSON else result.text(), output)
    raise typer.Exit(1 if result.findings else 0)


@audit_cli.command("seal")
def seal_command() -> None:
    """Seal everything stored so far and sign a checkpoint now (the projector does this
    continuously)."""
    worker: Sealer = bootstrap.sealer(Settings())
    try:
        sealed = worker.catch_up()
    finally:
        worker.close()
    typer.echo(f"sealed {sealed} records")


@audit_cli.command("public-key")
def public_key_command() -> None:
    """Print the checkpoint public key, for auditors to keep elsewhere."""
    settings = Settings()
    sys.stdout.write(public_key_pem(service.checkpoint_public_key(settings, None)))


checkpoints_cli = typer.Typer(help="The signed checkpoints, for a copy the auditor holds.")
audit_cli.add_typer(checkpoints_cli, name="checkpoints")


@checkpoints_cli.command("export")
def export_checkpoints_command(
    file: Annotated[
        Path, typer.Argument(help="Your copy: created, or appended to.", dir_okay=False)
    ],
) -> None:
    """Append the signed checkpoints your copy does not hold yet, so `radar audit verify
    --checkpoints-file FILE` can see the newest events deleted together with their checkpoints."""
    with _resumable("checkpoints export"):
        added, held = service.export_checkpoints(Settings(), file)
    seqs = f" (seq {added[0].seq}..{added[-1].seq})" if added else ""
    typer.echo(f"appended {len(added)} checkpoints{seqs} to {file}; it holds {held}")
