"""`make run` starts quietly (issue 22): a broker that has just started answers the aggregator's
first group join with NOT_COORDINATOR, and kafka-python's warnings about it are not printed;
every other kafka warning is, and so is the same one once the process has been up a minute."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
from kafka.coordinator.base import BaseCoordinator
from kafka.errors import NotCoordinatorError, UnknownMemberIdError

from services.logs import configure_logging


def _coordinator_marked_dead(error: Exception) -> None:
    """kafka-python's own code path for a group join answered by a broker not yet coordinating."""
    group = SimpleNamespace(coordinator_id="coordinator-1", group_id="radar-aggregator")
    BaseCoordinator.coordinator_dead(group, error)


def test_a_fresh_brokers_not_coordinator_answer_is_not_printed_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "aggregator.log"
    configure_logging("aggregator", "info", log_file)
    _coordinator_marked_dead(NotCoordinatorError())
    _coordinator_marked_dead(UnknownMemberIdError())  # any other kafka warning: shown
    logging.getLogger("kafka.consumer").warning("another kafka warning")
    for written in (log_file.read_text(encoding="utf-8"), capsys.readouterr().err):
        assert "NotCoordinatorError" not in written
        assert "UnknownMemberIdError" in written and "another kafka warning" in written


def test_after_the_first_minute_a_moved_coordinator_is_shown_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging("aggregator", "info", tmp_path / "aggregator.log")
    (quiet,) = logging.getLogger("kafka.coordinator").filters  # one, however often configured
    monkeypatch.setattr(quiet, "START_UP_SECONDS", 0.0)
    _coordinator_marked_dead(NotCoordinatorError())
    assert "Marking the coordinator dead (node coordinator-1)" in capsys.readouterr().err


def test_kafka_pythons_slow_start_up_steps_are_not_printed_in_the_first_minute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("aggregator", "info", tmp_path / "aggregator.log")
    selector = logging.getLogger("kafka.net.selector")
    selector.warning(
        "Task <kafka.net.selector.Task object at 0x7f39> ran for 0.338s (>0.100s threshold). "
        "It is blocking the event loop -- likely a tight sync loop inside a coroutine."
    )
    selector.warning("another selector warning")
    written = capsys.readouterr().err
    assert "blocking the event loop" not in written and "another selector warning" in written
