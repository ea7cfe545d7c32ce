"""Records not where the seal put them, from what the store walk collected: moved (or
swapped), removed, or inserted, each named by notification id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.audit.faults import Fault

if TYPE_CHECKING:
    from services.audit.verify import WalkState


def placement_faults(state: WalkState) -> list[Fault]:
    """Records not where the seal put them: moved (or swapped), removed, or inserted.

    A run of records all moved by the same distance (what inserting or removing one record and
    renumbering the rest looks like) is reported as one shift.
    """
    faults: list[Fault] = []
    moves: list[tuple[int, int, bool]] = []  # (sealed at, stored at, content differs)
    paired: set[str] = set()
    for identity, (sealed_at, sealed_digest) in state.misplaced_seal.items():
        found = state.misplaced_store.get(identity)
        if found is None:
            faults.append(
                Fault(
                    "event_store",
                    sealed_at,
                    "removed",
                    f"sealed record missing from the store (originator/version {identity})",
                )
            )
            continue
        paired.add(identity)
        moves.append((sealed_at, found[0], found[1] != sealed_digest))
    for identity, (stored_at, _digest) in state.misplaced_store.items():
        if identity not in paired:
            faults.append(
                Fault(
                    "event_store",
                    stored_at,
                    "inserted",
                    f"record not in the sealed log (originator/version {identity})",
                )
            )
    return faults + _move_faults(sorted(moves))


def _move_faults(moves: list[tuple[int, int, bool]]) -> list[Fault]:
    faults: list[Fault] = []
    targets = {sealed_at: stored_at for sealed_at, stored_at, _c in moves}
    run: list[tuple[int, int, bool]] = []

    def flush() -> None:
        if not run:
            return
        first, last = run[0], run[-1]
        changed = [s for s, _t, c in run if c]
        also = f"; content also differs at sealed {changed}" if changed else ""
        if len(run) == 1 and targets.get(first[1]) == first[0]:
            faults.append(
                Fault(
                    "event_store",
                    first[0],
                    "swapped",
                    f"swapped with notification {first[1]}{also}",
                )
            )
        elif len(run) == 1:
            faults.append(
                Fault(
                    "event_store",
                    first[0],
                    "moved",
                    f"sealed record now at notification {first[1]}{also}",
                )
            )
        else:
            faults.append(
                Fault(
                    "event_store",
                    first[0],
                    "moved",
                    f"{len(run)} sealed records (notifications {first[0]}..{last[0]}) "
                    f"shifted by {first[1] - first[0]:+d} (now at {first[1]}..{last[1]}){also}",
                )
            )
        run.clear()

    for move in moves:
        if run and (
            move[1] - move[0] != run[-1][1] - run[-1][0] or targets.get(move[1]) == move[0]
        ):
            flush()
        run.append(move)
        if targets.get(move[1]) == move[0]:
            flush()  # a swap stands on its own
    flush()
    return faults
