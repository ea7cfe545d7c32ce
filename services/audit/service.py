"""The audit operations as the CLI and the API run them: open what they need from the settings,
run, and clean up after themselves."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from kafka.errors import KafkaError
from sqlalchemy import Engine

from privacy.actors import Operator
from privacy.policy import Obligations, purpose_obligations
from privacy.storage.access_log import AccessLog, EntryKind, LogEntry
from services.audit import workfiles
from services.audit.checkpoint_check import KAFKA_COPY
from services.audit.checkpoint_file import (
    CheckpointFileError,
    append_checkpoints,
    read_checkpoint_file,
)
from services.audit.checkpoint_topic import BrokerUnreachableError, read_checkpoints
from services.audit.checkpoints import Checkpoint
from services.audit.compliance import (
    ComplianceReport,
    check_access,
    register_history,
    restricted_at,
)
from services.audit.keys import load_or_create_signing_key, load_public_key
from services.audit.lineage import unsigned_restore
from services.audit.progress import progress_bar
from services.audit.replay import ReplayFailedError, ScratchDatabase, replay
from services.audit.sealing import Sealer, last_checkpoint, store_id
from services.audit.settings import AuditSettings, audit_dir, checkpoint_key_path
from services.audit.snapshot import Selection, read_model_snapshot
from services.audit.verify import (
    VerifyReport,
    WalkState,
    state_from_dict,
    store_lineage,
    stored_checkpoints,
    verify,
)
from services.database import Database
from services.ledger.store import open_ledger
from services.projections.read_model import ReadModel, ReadModelsOf
from services.settings import Settings


class AuditError(Exception):
    """An audit cannot run as asked (no work file to resume, unknown purpose, ...)."""


LOGS_READ = {
    "replay": ("event_store", "access_log"),
    "verify": ("event_store", "access_log", "checkpoints"),
    "access": ("access_log",),
    "review": ("access_log", "worklist"),
}
"""What each auditor's command reads (the replay reads the registers from the access log)."""


def record_log_access(
    settings: Settings, operator: Operator, command: str, scope: dict[str, Any]
) -> LogEntry:
    """Appends a `log_access` entry for a command-line reading of the logs: who (OS user, name,
    role), which command, what it reads and its window or selection (`scope`). The API's
    readings are logged by the query gate; these would otherwise leave no trace.

    Logged first, before the command reads: a crash in between leaves a logged reading that
    never happened, never a reading that was not logged. `verify` then walks a chain that holds
    this entry, properly chained at the head, so its own entry cannot look like tampering."""
    db, engine = live_database(settings)
    try:
        payload = {
            "operator": operator.as_log(),
            "command": f"radar audit {command}",
            "read": list(LOGS_READ[command]),
            **scope,
        }
        return db.access_log(engine).append(EntryKind.LOG_ACCESS, payload)
    finally:
        engine.dispose()


def live_database(settings: Settings) -> tuple[Database, Engine]:
    db = Database.of(settings)
    return db, db.engine()


def replay_work_file(settings: Settings) -> Path:
    return audit_dir(settings) / "replay.json"


def replay_report(
    settings: Settings,
    read_models: ReadModelsOf,
    as_of: datetime | None,
    selection: Selection,
    purpose: str | None = None,
    work_file: Path | None = None,
    resume: bool = False,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Rebuilds every read model up to `as_of` in a scratch database and reports the selection.

    With a work file the run can be interrupted and resumed; the scratch database is removed
    once the report is made. Without one (the API) everything lives in a temporary directory.
    """
    if work_file is None:
        with tempfile.TemporaryDirectory(dir=_private(audit_dir(settings))) as scratch_dir:
            return replay_report(
                settings,
                read_models,
                as_of,
                selection,
                purpose,
                Path(scratch_dir) / "replay.json",
                False,
                show_progress,
            )
    db, engine = live_database(settings)
    try:
        job = _replay_job(work_file, as_of, resume)
        moment = datetime.fromisoformat(job["as_of"])
        log = db.access_log(engine)
        view = _purpose_view(log, purpose, moment) if purpose else None
        # As the purpose saw it: what was restricted then was withheld from it.
        withheld = restricted_at(log, moment) if view and view.withhold_restricted else None
    except AuditError:
        engine.dispose()
        raise
    # the deployment's keys: a resumed replay opens what the interrupted one sealed
    scratch = ScratchDatabase(job["database"], settings.keys_dir)
    ledger = open_ledger(db)
    models = read_models(scratch)
    try:
        total = ledger.notifications.last_id()
        with progress_bar("replay event store", total, "id", show_progress) as bar:
            bar.update(min(m.position() for m in models) if models else 0)
            try:
                outcome = replay(
                    ledger,
                    models,
                    moment,
                    lambda position, _n: bar.update(max(0, position - bar.n)),
                )
            except ReplayFailedError as error:
                _dispose(models)
                scratch.remove()
                work_file.unlink(missing_ok=True)
                raise AuditError(str(error)) from error
        scratch_engine = scratch.engine()
        snapshot = read_model_snapshot(models, scratch_engine, selection, view, withheld)
        scratch_engine.dispose()
    finally:
        ledger.close()
        engine.dispose()
        _dispose(models)
    scratch.remove()
    work_file.unlink(missing_ok=True)
    return {
        "as_of": moment,
        "generated_at": datetime.now(UTC),
        "selection": asdict(selection),
        "purpose_view": purpose,
        "event_store": {
            "last_notification_id": outcome.last_notification_id,
            "events_applied": outcome.events_applied,
        },
        **snapshot,
    }


def _replay_job(work_file: Path, as_of: datetime | None, resume: bool) -> dict[str, Any]:
    """The work file of this replay: resumed, or started afresh (an old one is discarded)."""
    job = workfiles.load(work_file)
    if resume:
        if job is None:
            raise AuditError(f"nothing to resume: no work file at {work_file}")
        if as_of is not None and datetime.fromisoformat(job["as_of"]) != as_of:
            raise AuditError(
                f"the interrupted replay was as of {job['as_of']}, not {as_of.isoformat()}"
            )
        return job
    if as_of is None:
        raise AuditError("--as-of is required (or --resume an interrupted replay)")
    if job is not None:
        ScratchDatabase(job["database"]).remove()
    path = _private(work_file.parent) / f"replay-{time.time_ns()}.db"
    job = {"as_of": as_of.isoformat(), "database": ScratchDatabase.at(path).url}
    workfiles.save(work_file, job)
    return job


def _dispose(models: Sequence[ReadModel]) -> None:
    """Closes the scratch database's connections before its file is removed."""
    for model in models:
        for name in ("engine", "_engine"):
            engine = getattr(model, name, None)
            if isinstance(engine, Engine):
                engine.dispose()


def _purpose_view(log: AccessLog, purpose: str, moment: datetime) -> Obligations:
    """What `purpose` disclosed at `moment`, under the register version then in force."""
    register = register_history(log).at(moment)
    if register is None:
        raise AuditError(f"no purpose register was adopted by {moment.isoformat()}")
    found = register.purposes.get(purpose)
    if found is None:
        raise AuditError(f"purpose '{purpose}' is not in register version {register.version}")
    return purpose_obligations(found, moment - timedelta(days=found.lookback_days))


def _private(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def verify_work_file(settings: Settings) -> Path:
    return audit_dir(settings) / "verify.json"


def checkpoint_public_key(settings: Settings, public_key_file: Path | None) -> Ed25519PublicKey:
    """The key checkpoints must be signed with: the auditor's copy when given."""
    if public_key_file is not None:
        return load_public_key(public_key_file.read_bytes())
    return load_or_create_signing_key(checkpoint_key_path(settings)).public_key()


def verify_report(
    settings: Settings,
    use_kafka: bool = True,
    public_key_file: Path | None = None,
    work_file: Path | None = None,
    resume: bool = False,
    show_progress: bool = False,
    audit: AuditSettings | None = None,
    checkpoints_file: Path | None = None,
) -> VerifyReport:
    """Verifies the event store (seal, checkpoints, external copy) and the access log.

    The external copy is `checkpoints_file` when given (Kafka is then not asked), else the
    Kafka topic when `use_kafka`, else none: the report then says what it cannot see.
    """
    audit = audit or AuditSettings()
    state: WalkState | None = None
    if resume and work_file is not None:
        saved_state = workfiles.load(work_file)
        if saved_state is None:
            raise AuditError(f"nothing to resume: no work file at {work_file}")
        state = state_from_dict(saved_state["state"])

    def save(walk: WalkState) -> None:
        if work_file is not None:
            saved_at = datetime.now(UTC).isoformat()
            workfiles.save(work_file, {"state": asdict(walk), "saved_at": saved_at})

    db, engine = live_database(settings)
    ledger = open_ledger(db)
    try:
        stores = store_lineage(engine).stores  # a restored store's parents' checkpoints too
        published: list[Checkpoint] | None = None
        source = KAFKA_COPY
        if checkpoints_file is not None:
            published, source = _copied_checkpoints(checkpoints_file, stores)
        elif use_kafka:
            published = _published_checkpoints(settings, audit, stores)
        key = checkpoint_public_key(settings, public_key_file)
        report = verify(ledger, engine, key, published, state, save, show_progress, source)
    finally:
        ledger.close()
        engine.dispose()
    if work_file is not None:
        work_file.unlink(missing_ok=True)
        workfiles.save(
            work_file.with_name("verify-last.json"),
            {"finished_at": datetime.now(UTC).isoformat(), **report.as_dict()},
        )
    return report


class KafkaUnavailableError(AuditError):
    """The Kafka copy of the checkpoints could not be read."""


def _published_checkpoints(
    settings: Settings, audit: AuditSettings, stores: frozenset[str]
) -> list[Checkpoint]:
    try:
        return read_checkpoints(
            settings.kafka_bootstrap,
            audit.checkpoints_topic,
            stores,
            connect_timeout_seconds=audit.verify_connect_timeout_seconds,
        )
    except BrokerUnreachableError as error:
        raise KafkaUnavailableError(
            f"Kafka is unreachable at {settings.kafka_bootstrap} ({error}): verify against "
            "your own copy of the "
            "checkpoints with --checkpoints-file FILE, or against the database alone with "
            "--no-kafka"
        ) from error
    except (KafkaError, TimeoutError) as error:
        raise KafkaUnavailableError(
            f"cannot read the checkpoints on {audit.checkpoints_topic} at "
            f"{settings.kafka_bootstrap} ({type(error).__name__}); verify without the Kafka "
            "copy with --no-kafka"
        ) from error


def _copied_checkpoints(path: Path, stores: frozenset[str]) -> tuple[list[Checkpoint], str]:
    try:
        return read_checkpoint_file(path, stores), f"the external copy {path}"
    except CheckpointFileError as error:
        raise AuditError(str(error)) from error


def sign_restore(settings: Settings) -> bool:
    """Seals the restored store and signs its first checkpoint, which carries the restore's
    lineage, so `verify` can tell the restore from a truncation before the radar even starts
    (the projector publishes it to Kafka later; it never signs a lineage itself). Only with
    the checkpoint key in place: never a new key. False when there is no restore to sign."""
    if not checkpoint_key_path(settings).exists():
        return False
    db, engine = live_database(settings)
    ledger = open_ledger(db)
    try:
        with engine.connect() as connection:
            pending = unsigned_restore(connection, store_id(engine), last_checkpoint(connection))
        if pending is None:
            return False
        key = load_or_create_signing_key(checkpoint_key_path(settings))
        Sealer(ledger, engine, key, None, AuditSettings(), signs_restore=True).catch_up()
        return True
    finally:
        ledger.close()
        engine.dispose()


def export_checkpoints(settings: Settings, path: Path) -> tuple[list[Checkpoint], int]:
    """Appends the database's signed checkpoints that `path` does not hold yet; returns those
    and how many checkpoints of this store (and the stores it was restored from) it holds."""
    _db, engine = live_database(settings)
    try:
        checkpoints = stored_checkpoints(engine)
        stores = store_lineage(engine).stores  # a restored store's parents' count too
    finally:
        engine.dispose()
    try:
        added = append_checkpoints(path, checkpoints)
        return added, len(read_checkpoint_file(path, stores))
    except (CheckpointFileError, OSError) as error:
        raise AuditError(str(error)) from error


def access_report(
    settings: Settings,
    since: datetime | None,
    until: datetime | None,
    show_progress: bool = False,
) -> ComplianceReport:
    """Checks every access between `since` and `until` against the register then in force."""
    db, engine = live_database(settings)
    try:
        return check_access(db.access_log(engine), since, until, show_progress)
    finally:
        engine.dispose()
