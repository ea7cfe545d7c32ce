"""The restart rule of `radar run` (services/restarts.py): how long a crashed process waits
before it is started again, and when the supervisor gives up on it."""

from __future__ import annotations

from services.restarts import CrashHistory, RestartPolicy, describe_status


def test_the_delay_doubles_with_each_crash_in_a_row_up_to_the_cap() -> None:
    history = CrashHistory(RestartPolicy(crash_limit=100, window=10))
    delays = [history.crashed(at=float(i * 20), status=1, ran_for=1.0) for i in range(10)]
    assert delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30, 30]


def test_a_process_that_stayed_up_a_while_restarts_quickly_again() -> None:
    history = CrashHistory(RestartPolicy())
    assert [history.crashed(at=t, status=1, ran_for=2.0) for t in (0, 3, 7)] == [0.5, 1, 2]
    assert history.crashed(at=600, status=-9, ran_for=300.0) == 0.5
    assert history.crashed(at=602, status=1, ran_for=1.0) == 1


def test_repeated_crashes_within_the_window_give_up_and_name_the_statuses() -> None:
    history = CrashHistory(RestartPolicy(crash_limit=3, window=60))
    assert history.crashed(at=0, status=1, ran_for=1.0) is not None
    assert history.crashed(at=10, status=-9, ran_for=1.0) is not None
    assert history.crashed(at=20, status=2, ran_for=1.0) is None
    assert history.statuses() == "exit 1, SIGKILL, exit 2"


def test_crashes_spread_wider_than_the_window_never_give_up() -> None:
    history = CrashHistory(RestartPolicy(crash_limit=3, window=60))
    assert all(history.crashed(at=t * 31.0, status=1, ran_for=31.0) is not None for t in range(50))


def test_a_signal_status_reads_as_the_signal() -> None:
    assert describe_status(0) == "exit 0"
    assert describe_status(-15) == "SIGTERM"
