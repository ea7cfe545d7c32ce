"""What `verify` found wrong, and where."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Fault:
    """One integrity fault.

    `log` is the log it is in (event_store, seal, checkpoints, access_log); `at` is the
    notification id (event store and seal), the checkpoint seq or the access-log seq.
    """

    log: str
    at: int
    kind: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        unit = {"event_store": "notification", "seal": "notification"}.get(self.log, "seq")
        return f"{self.log} {unit} {self.at}: {self.kind}: {self.detail}"

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Fault:
        return cls(
            str(values["log"]), int(values["at"]), str(values["kind"]), str(values["detail"])
        )
