"""When `radar run` restarts a process that ended, and when it stops trying: pure bookkeeping,
no processes, so the rule can be read (and tested) on its own.

A process that ends without being asked to has crashed, whatever its exit status: every radar
process is meant to run until it is stopped. It is started again after a delay that doubles
with each crash in a row (a database that is down should not be hammered, a transient fault
should cost half a second) and falls back to the first delay once the process has stayed up
for a while. A process that keeps crashing (too many crashes within a window) is a fault a
restart cannot fix: the supervisor gives up on it, says so once, and leaves the others running.
"""

from __future__ import annotations

import signal
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RestartPolicy:
    """The timings; the defaults are what `radar run` uses."""

    first_delay: float = 0.5  # seconds before the first restart after a crash
    max_delay: float = 30.0  # the doubling stops here
    stable_after: float = 30.0  # a run this long counts as healthy: the next delay is the first
    crash_limit: int = 5  # this many crashes within `window` seconds: give up
    window: float = 120.0

    def __post_init__(self) -> None:
        if self.first_delay <= 0 or self.max_delay < self.first_delay:
            raise ValueError("need 0 < first_delay <= max_delay")
        if self.crash_limit < 1 or self.window <= 0:
            raise ValueError("need crash_limit >= 1 and window > 0")


@dataclass(frozen=True)
class Crash:
    at: float  # monotonic seconds
    status: int  # Popen.returncode: an exit status, or minus the signal that ended it


@dataclass
class CrashHistory:
    """The recent crashes of one process and the delay its next restart waits."""

    policy: RestartPolicy = field(default_factory=RestartPolicy)
    recent: deque[Crash] = field(default_factory=deque)
    _next_delay: float | None = None

    def crashed(self, at: float, status: int, ran_for: float) -> float | None:
        """Records a crash; returns the delay before the restart, or None: give up."""
        self.recent.append(Crash(at, status))
        while self.recent and self.recent[0].at <= at - self.policy.window:
            self.recent.popleft()
        if len(self.recent) >= self.policy.crash_limit:
            return None
        if self._next_delay is None or ran_for >= self.policy.stable_after:
            delay = self.policy.first_delay
        else:
            delay = self._next_delay
        self._next_delay = min(delay * 2, self.policy.max_delay)
        return delay

    def statuses(self) -> str:
        """The exit statuses of the recent crashes, oldest first, for a log line."""
        return ", ".join(describe_status(crash.status) for crash in self.recent)


def describe_status(status: int) -> str:
    """'exit 1' or 'SIGKILL': what an operator reads in a log line."""
    if status >= 0:
        return f"exit {status}"
    try:
        return signal.Signals(-status).name
    except ValueError:
        return f"signal {-status}"
