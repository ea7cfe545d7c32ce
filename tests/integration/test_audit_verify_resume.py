"""A long `radar audit verify` saves its place as it goes: interrupted, it resumes from the last
saved window and still finds what was tampered with. The interruption is injected by replacing
the work-file writer (nothing else is replaced): verification reads the real event store and
compares it with the checkpoints the sealer published to the real Kafka broker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.audit import service, verify
from services.database import Database
from services.settings import Settings
from tests.support.audit_helpers import Sealed, Tamperer, sealing_settings


def test_interrupted_verification_resumes_where_it_stopped(
    sealed: Sealed, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit = sealing_settings(settings)  # the checkpoints topic the sealer published to
    Tamperer(Database.of(settings)).delete(9)
    monkeypatch.setattr(verify, "WINDOW", 20)
    work_file = service.verify_work_file(settings)
    saves: list[int] = []
    real_save = service.workfiles.save

    def interrupting_save(path: Path, state: dict[str, Any]) -> None:
        real_save(path, state)
        saves.append(state["state"]["position"])
        if len(saves) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(service.workfiles, "save", interrupting_save)
    with pytest.raises(KeyboardInterrupt):
        service.verify_report(settings, use_kafka=True, work_file=work_file, audit=audit)
    assert saves == [20, 40] and work_file.exists()
    monkeypatch.setattr(service.workfiles, "save", real_save)
    resumed = service.verify_report(
        settings, use_kafka=True, work_file=work_file, resume=True, audit=audit
    )
    assert ("event_store", 9, "removed") in {(f.log, f.at, f.kind) for f in resumed.faults}
    assert not work_file.exists() and work_file.with_name("verify-last.json").exists()
