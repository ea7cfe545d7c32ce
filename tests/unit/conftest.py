"""What makes a unit test one: it connects to nothing and starts no process. Both are refused
here, so a test that reaches for the broker, PostgreSQL or a radar process fails at once and
says where it belongs (tests/integration or tests/e2e) instead of slowing `make test-unit`."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest


def _refused(what: str) -> Any:
    def refuse(*_: object, **__: object) -> NoReturn:
        raise AssertionError(
            f"a unit test {what}; a test that needs a service or a process belongs in "
            "tests/integration or tests/e2e"
        )

    return refuse


@pytest.fixture(autouse=True)
def _no_connections_no_processes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(socket.socket, "connect", _refused("connected to something"))
    monkeypatch.setattr(socket.socket, "connect_ex", _refused("connected to something"))
    monkeypatch.setattr(subprocess.Popen, "__init__", _refused("started a process"))
    yield
