"""Read your own writes: a casework step answers with the event-store position it was recorded
at, and a read given that position waits, bounded, until the read models it reads have reached
it. The read models advance only by the projector (another process in a deployment), so the
wait polls their position rows: one indexed select per model per poll."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Annotated, Protocol

from fastapi import Query

from services.errors import FieldError, Refusal, RefusalKind
from services.ledger.application import SignalLedger

WAIT_SECONDS = 5.0  # long enough for a busy projector, short enough for a person waiting
POLL_SECONDS = 0.025
RETRY_AFTER_SECONDS = 1

After = Annotated[
    int | None,
    Query(
        ge=0,
        description="A step's `recorded_at_position`: the read waits (up to a few seconds, "
        "then 503 with Retry-After) until the read models show that step.",
    ),
]
"""The `after` query parameter of every read that can follow a step."""


class Positioned(Protocol):
    """A read model as far as waiting is concerned: its position and the topics it reads."""

    topics: tuple[str, ...]

    def position(self) -> int: ...


def recorded_position(ledger: SignalLedger) -> int:
    """The newest notification id in the event store: at or after the events a step that just
    returned saved, so a read waiting for it sees that step."""
    return ledger.recorder.max_notification_id() or 0


def reached(ledger: SignalLedger, model: Positioned, position: int) -> bool:
    """Whether the read model shows everything up to `position`: its own position is there,
    or the store is and no event the model reads lies between the two (a projector moves a
    read model's position only over the events of its topics). A position the store has not
    reached is a step this store has not recorded (yet): not reached."""
    current = model.position()
    if current >= position:
        return True
    if recorded_position(ledger) < position:
        return False
    return not ledger.notifications.after(current, 1, model.topics, stop=position)


def wait_until(
    ledger: Callable[[], SignalLedger],
    models: Sequence[Positioned],
    position: int,
    timeout: float = WAIT_SECONDS,
    poll: float = POLL_SECONDS,
) -> None:
    """Returns once every read model has reached `position`; after `timeout` seconds refuses
    as unavailable (503, Retry-After): the read model is behind, the step is recorded."""
    if position > recorded_position(ledger()):
        # a step answers only after its events are stored, so this position names no step:
        # refused at once rather than waited for (a caller's guess cannot hold a request)
        raise Refusal(
            RefusalKind.INVALID,
            "after: no step has been recorded at this position",
            [FieldError(field="after", reason="beyond the newest position in the event store")],
        )
    deadline = time.monotonic() + timeout
    pending = list(models)
    while True:
        pending = [m for m in pending if not reached(ledger(), m, position)]
        if not pending:
            return
        if time.monotonic() >= deadline:
            raise Refusal(
                RefusalKind.UNAVAILABLE,
                f"the read model has not reached position {position} yet; retry",
                retry_after_seconds=RETRY_AFTER_SECONDS,
            )
        time.sleep(poll)
