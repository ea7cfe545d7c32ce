"""`radar audit verify` tells the truth about what it can see (issue 22), on SQLite and
PostgreSQL: the newest events deleted together with their seal and checkpoint rows are found
with the auditor's own copy of the checkpoints (and with the Kafka copy), and reported as what a
check of the database alone cannot see; a stopped broker is a one-line refusal naming the
options, not half a minute of retries."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from services.audit import service
from services.audit.settings import AuditSettings
from services.cli import app
from services.database import Database
from services.settings import Settings
from tests.support.audit_helpers import Sealed, Tamperer

BLIND_SPOT = "deleting the newest events together with their seal and checkpoint rows"


def _env(settings: Settings, audit: AuditSettings, **more: str) -> dict[str, str]:
    return {
        "RADAR_DATA_DIR": str(settings.data_dir),
        "RADAR_DATABASE_URL": settings.database_url,
        "RADAR_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "RADAR_SIGNALS_TOPIC": settings.signals_topic,
        "RADAR_AUDIT_CHECKPOINTS_TOPIC": audit.checkpoints_topic,
        **more,
    }


def _radar(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, ["audit", *args], env=env)


def test_truncated_tail_is_found_with_the_auditors_copy_and_reported_as_unseen_without(
    sealed: Sealed, settings: Settings, audit: AuditSettings, tmp_path: Path
) -> None:
    env = _env(settings, audit)
    copy = tmp_path / "auditor" / "checkpoints.jsonl"
    copy.parent.mkdir()
    exported = _radar(env, "checkpoints", "export", str(copy))
    assert exported.exit_code == 0, exported.output
    assert f"appended {len(sealed.checkpoints)} checkpoints" in exported.stdout
    again = _radar(env, "checkpoints", "export", str(copy))
    assert "appended 0 checkpoints" in again.stdout  # the copy holds each checkpoint once

    kept = sealed.checkpoints[-3]  # the store now ends at a checkpoint, consistent in itself
    Tamperer(Database.of(settings)).truncate_after(kept)

    alone = _radar(env, "verify", "--no-kafka", "--quiet")
    assert alone.exit_code == 0, alone.output
    assert "intact as far as the database alone can tell" in alone.stdout
    assert BLIND_SPOT in alone.stdout and "--checkpoints-file" in alone.stdout
    assert "\nintact\n" not in f"\n{alone.stdout}\n"

    against_copy = _radar(env, "verify", "--checkpoints-file", str(copy), "--quiet")
    assert against_copy.exit_code == 1, against_copy.output
    gap = f"records {kept + 1}..{sealed.records} were removed"
    assert "truncated" in against_copy.stdout and gap in against_copy.stdout
    assert "missing from the database" in against_copy.stdout
    # Kafka is not asked when the auditor brings a copy; what the copy cannot cover is said too
    assert f"newest checkpoint {len(sealed.checkpoints)}" in against_copy.stdout

    # the export after the truncation takes nothing back from the copy
    later = _radar(env, "checkpoints", "export", str(copy))
    assert f"appended 0 checkpoints to {copy}; it holds {len(sealed.checkpoints)}" in later.stdout

    on_kafka = service.verify_report(settings, use_kafka=True, work_file=None, audit=audit)
    truncated = [f for f in on_kafka.faults if f.kind == "truncated"]
    assert [f.at for f in truncated] == [kept + 1] and gap in truncated[0].detail


def test_untouched_store_says_what_a_check_of_the_database_alone_cannot_see(
    sealed: Sealed, settings: Settings, audit: AuditSettings
) -> None:
    report = service.verify_report(settings, use_kafka=False, work_file=None, audit=audit)
    assert report.intact and report.verdict == "intact as far as the database alone can tell"
    assert BLIND_SPOT in report.cannot_see
    with_kafka = service.verify_report(settings, use_kafka=True, work_file=None, audit=audit)
    assert with_kafka.intact and "Kafka" in with_kafka.verdict
    assert f"newest checkpoint {len(sealed.checkpoints)}" in with_kafka.cannot_see


@contextmanager
def _stopped_broker(kind: str) -> Iterator[str]:
    """An address where Kafka does not answer: nothing listens there (connection refused), or
    something accepts the connection and never replies (a hung broker, a firewall's proxy)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        if kind == "silent":
            listener.listen(8)
        yield f"127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_verify_on_a_stopped_system_says_kafka_is_unreachable_and_what_to_use_instead(
    sealed: Sealed, settings: Settings, audit: AuditSettings, kind: str
) -> None:
    with _stopped_broker(kind) as stopped:
        env = _env(
            settings,
            audit,
            RADAR_KAFKA_BOOTSTRAP=stopped,
            RADAR_AUDIT_VERIFY_CONNECT_TIMEOUT_SECONDS="0.5",
        )
        result = _radar(env, "verify", "--quiet")
    assert result.exit_code == 2, result.output
    # the one line the command writes (the Kafka client may log its own failed bootstrap too)
    (line,) = [ln for ln in result.stderr.strip().splitlines() if "Kafka is unreachable" in ln]
    assert f"Kafka is unreachable at {stopped}" in line
    assert "--checkpoints-file FILE" in line and "--no-kafka" in line
