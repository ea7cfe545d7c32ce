"""What every test under tests/chaos shares: the `chaos` marker (so `pytest -m "not chaos"`
leaves the suite out) and the report `make chaos` ends with, one line per fault injected and
what was verified after it."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHAOS_DIR = Path(__file__).parent


@dataclass
class FaultReport:
    """Collects (fault injected, what was verified after it) lines for the closing report."""

    rows: list[tuple[str, str]] = field(default_factory=list)

    def add(self, fault: str, verified: str) -> None:
        self.rows.append((fault, verified))


_REPORT = FaultReport()


@pytest.fixture(scope="session")
def fault_report() -> FaultReport:
    """Tests add a line once their checks passed: `fault_report.add(fault, verified)`."""
    return _REPORT


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this directory is a chaos test, whether or not it says so itself."""
    for item in items:
        if CHAOS_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.chaos)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _REPORT.rows:
        return
    width = max(60, min(terminalreporter.config.get_terminal_writer().fullwidth, 160))
    left = min(max(len(fault) for fault, _ in _REPORT.rows), (width - 3) // 2)
    right = width - left - 3
    terminalreporter.section("CHAOS REPORT")
    terminalreporter.write_line(f"{'fault injected':<{left}} | what was verified after it")
    terminalreporter.write_line(f"{'-' * left}-+-{'-' * right}")
    for fault, verified in _REPORT.rows:
        faults = textwrap.wrap(fault, left) or [""]
        checks = textwrap.wrap(verified, right) or [""]
        for index in range(max(len(faults), len(checks))):
            a = faults[index] if index < len(faults) else ""
            b = checks[index] if index < len(checks) else ""
            terminalreporter.write_line(f"{a:<{left}} | {b}".rstrip())
