"""`radar audit verify`: is the event store (and the access log) still what was sealed?

Three independent checks, each locating what it finds:

- every stored record is compared with the seal table, row by row, by notification id: a
  changed byte, a removed, inserted or moved (reordered, swapped) record is named by its id;
- the chain is recomputed from the store itself and compared with every signed checkpoint, so
  a store rewritten together with the seal table is still caught (between two checkpoints);
- checkpoints must carry the radar's signature and form an unbroken chain, and the Kafka copy
  must hold the same ones, so a checkpoint removed or forged in the database is caught too.

The walk over the store goes in windows of notification ids and saves its state after each,
so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, func, select

from privacy.storage.access_log import AccessLog, access_log
from services.audit.chain import GENESIS, StoredRecord, link
from services.audit.checkpoints import Checkpoint, audit_checkpoints
from services.audit.faults import Fault
from services.audit.progress import progress_bar
from services.audit.sealing import audit_event_chain, chain_head, store_id
from services.ledger.application import SignalLedger

WINDOW = 1000
MAX_REPORTED_FAULTS = 1000


@dataclass
class WalkState:
    """How far the walk over the store got, and what it found so far (saved for --resume)."""

    position: int = 0
    store_chain: str = GENESIS
    store_records: int = 0
    seal_chain: str = GENESIS
    seal_records: int = 0
    unsealed: int = 0
    checkpoint_at: int = 0  # notification id of the last checkpoint passed
    faults: list[dict[str, Any]] = field(default_factory=list)
    # records not where the seal says: identity "originator/version" -> [notification id, digest]
    misplaced_store: dict[str, list[Any]] = field(default_factory=dict)
    misplaced_seal: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, fault: Fault) -> None:
        self.faults.append(fault.as_dict())


@dataclass(frozen=True)
class SealRow:
    notification_id: int
    ordinal: int
    originator_id: str
    originator_version: int
    digest: str
    chain_hash: str

    @property
    def identity(self) -> tuple[str, int]:
        return (self.originator_id, self.originator_version)


def _key(identity: tuple[str, int]) -> str:
    return f"{identity[0]}/{identity[1]}"


def check_checkpoints(
    stored: list[Checkpoint],
    published: list[Checkpoint] | None,
    public_key: Ed25519PublicKey,
    store: str,
) -> tuple[list[Checkpoint], list[Fault]]:
    """The checkpoints that can be trusted (our signature, unbroken chain), and the faults.

    With the Kafka copy (`published`), a checkpoint missing from the database, or different
    there, is a fault too; the copy's checkpoints then count as trusted.
    """
    faults: list[Fault] = []
    trusted: dict[int, Checkpoint] = {}
    previous: Checkpoint | None = None
    for checkpoint in stored:
        if not checkpoint.signed_by(public_key) or checkpoint.store != store:
            faults.append(
                Fault(
                    "checkpoints",
                    checkpoint.seq,
                    "signature",
                    "rejected: not signed with the radar's checkpoint key for this store "
                    "(another key, another store, or altered after signing)",
                )
            )
            continue
        expected = 1 if previous is None else previous.seq + 1
        if checkpoint.seq != expected:
            faults.append(
                Fault(
                    "checkpoints",
                    checkpoint.seq,
                    "missing",
                    f"checkpoints {expected}..{checkpoint.seq - 1} are missing from the database",
                )
            )
        elif checkpoint.content["previous"] != (GENESIS if previous is None else previous.digest()):
            faults.append(
                Fault("checkpoints", checkpoint.seq, "chain", "does not follow its predecessor")
            )
        trusted[checkpoint.seq] = checkpoint
        previous = checkpoint
    if published is not None:
        seen: set[int] = set()
        for copy in published:
            if not copy.signed_by(public_key):
                faults.append(
                    Fault(
                        "checkpoints",
                        _seq_or_zero(copy),
                        "signature",
                        "rejected: a checkpoint on the Kafka topic is not signed with the "
                        "radar's checkpoint key",
                    )
                )
                continue
            if copy.seq in seen:
                continue  # published twice (at-least-once delivery)
            seen.add(copy.seq)
            mine = trusted.get(copy.seq)
            if mine is None:
                faults.append(
                    Fault(
                        "checkpoints",
                        copy.seq,
                        "missing",
                        "signed checkpoint on the Kafka topic is missing from the database",
                    )
                )
                trusted[copy.seq] = copy
            elif mine.body != copy.body:
                faults.append(
                    Fault(
                        "checkpoints",
                        copy.seq,
                        "changed",
                        "differs from the signed copy on the Kafka topic",
                    )
                )
                trusted[copy.seq] = copy
    ordered = sorted(trusted.values(), key=lambda c: (c.notification_id, c.seq))
    return ordered, faults


def _seq_or_zero(checkpoint: Checkpoint) -> int:
    try:
        return checkpoint.seq
    except (KeyError, TypeError, ValueError):
        return 0


class StoreWalk:
    """Walks the store and the seal table side by side, window by window."""

    def __init__(self, ledger: SignalLedger, engine: Engine, checkpoints: list[Checkpoint]) -> None:
        self._ledger = ledger
        self._engine = engine
        self._checkpoints = checkpoints
        with engine.connect() as connection:
            self.sealed_up_to = chain_head(connection).notification_id
        self.end = max(self.sealed_up_to, ledger.notifications.last_id())

    def run(
        self,
        state: WalkState,
        saved: Callable[[WalkState], None],
        show_progress: bool,
    ) -> WalkState:
        """Continues from state.position to the end of the store; saves after each window."""
        with progress_bar("verify event store", self.end, "id", show_progress) as bar:
            bar.update(state.position)
            while state.position < self.end:
                start, stop = state.position, min(state.position + WINDOW, self.end)
                self._window(state, start, stop)
                state.position = stop
                saved(state)
                bar.update(stop - start)
        return state

    def _window(self, state: WalkState, start: int, stop: int) -> None:
        notifications = self._ledger.notifications.after(start, stop - start, stop=stop)
        stored = {n.id: StoredRecord.of(n) for n in notifications}
        sealed = {row.notification_id: row for row in self._seal_rows(start, stop)}
        checkpoints = [c for c in self._checkpoints if start < c.notification_id <= stop]
        for nid in sorted(stored.keys() | sealed.keys()):
            while checkpoints and checkpoints[0].notification_id < nid:
                self._check_checkpoint(state, checkpoints.pop(0))
            record, row = stored.get(nid), sealed.get(nid)
            if row is not None:
                self._check_seal_row(state, row)
            if record is None:
                assert row is not None
                state.misplaced_seal[_key(row.identity)] = [nid, row.digest]
                continue
            digest = record.digest()
            state.store_chain = link(state.store_chain, nid, digest)
            state.store_records += 1
            if row is None:
                if nid <= self.sealed_up_to or _key(record.identity) in state.misplaced_seal:
                    state.misplaced_store[_key(record.identity)] = [nid, digest]
                else:
                    state.unsealed += 1
            elif record.identity != row.identity:
                state.misplaced_store[_key(record.identity)] = [nid, digest]
                state.misplaced_seal[_key(row.identity)] = [nid, row.digest]
            elif digest != row.digest:
                state.add(
                    Fault(
                        "event_store",
                        nid,
                        "changed",
                        f"content differs from the sealed record ({_describe(row)})",
                    )
                )
        for checkpoint in checkpoints:
            self._check_checkpoint(state, checkpoint)

    def _check_seal_row(self, state: WalkState, row: SealRow) -> None:
        """The seal table must be a chain of its own: a row edited to hide a change is caught."""
        state.seal_records += 1
        expected = link(state.seal_chain, row.notification_id, row.digest)
        if expected != row.chain_hash or row.ordinal != state.seal_records:
            state.add(
                Fault(
                    "seal",
                    row.notification_id,
                    "chain",
                    "the seal table was altered here (its chain does not link)",
                )
            )
        state.seal_chain, state.seal_records = row.chain_hash, row.ordinal

    def _check_checkpoint(self, state: WalkState, checkpoint: Checkpoint) -> None:
        """At a checkpoint, the chain recomputed from the store must equal the signed one."""
        nid = checkpoint.notification_id
        events = checkpoint.content["events"]
        since = state.checkpoint_at
        if state.store_chain != events["chain_hash"] or state.store_records != events["records"]:
            state.add(
                Fault(
                    "event_store",
                    nid,
                    "checkpoint",
                    f"the store no longer matches signed checkpoint {checkpoint.seq}: a record "
                    f"after notification {since} and up to {nid} was changed, removed, "
                    f"inserted or moved",
                )
            )
        if state.seal_chain != events["chain_hash"] or state.seal_records != events["records"]:
            state.add(
                Fault(
                    "seal",
                    nid,
                    "checkpoint",
                    f"the seal table no longer matches signed checkpoint {checkpoint.seq}",
                )
            )
        # Later checkpoints are judged on their own stretch of the store.
        state.store_chain, state.store_records = events["chain_hash"], events["records"]
        state.seal_chain, state.seal_records = events["chain_hash"], events["records"]
        state.checkpoint_at = nid

    def _seal_rows(self, start: int, stop: int) -> Iterable[SealRow]:
        table = audit_event_chain
        with self._engine.connect() as connection:
            for row in connection.execute(
                select(
                    table.c.notification_id,
                    table.c.ordinal,
                    table.c.originator_id,
                    table.c.originator_version,
                    table.c.digest,
                    table.c.chain_hash,
                )
                .where(table.c.notification_id > start, table.c.notification_id <= stop)
                .order_by(table.c.notification_id)
            ):
                yield SealRow(*row)


def _describe(row: SealRow) -> str:
    return f"originator {row.originator_id}, version {row.originator_version}"


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


def stored_checkpoints(engine: Engine) -> list[Checkpoint]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(audit_checkpoints.c.body, audit_checkpoints.c.signature).order_by(
                audit_checkpoints.c.seq
            )
        ).all()
    return [Checkpoint(body, signature) for body, signature in rows]


def access_log_faults(engine: Engine, checkpoints: list[Checkpoint]) -> tuple[int, list[Fault]]:
    """The access log's own chain, and its heads as signed in the checkpoints."""
    faults = [Fault("access_log", f.seq, "chain", f.problem) for f in AccessLog(engine).verify()]
    with engine.connect() as connection:
        entries = int(connection.execute(select(func.count()).select_from(access_log)).scalar_one())
        for checkpoint in checkpoints:
            head = checkpoint.content.get("access_log")
            if not head:
                continue
            stored = connection.execute(
                select(access_log.c.entry_hash).where(access_log.c.seq == head["seq"])
            ).scalar_one_or_none()
            if stored != head["entry_hash"]:
                what = "missing" if stored is None else "differs from the one"
                faults.append(
                    Fault(
                        "access_log",
                        int(head["seq"]),
                        "checkpoint",
                        f"entry {what} signed in checkpoint {checkpoint.seq}",
                    )
                )
    return entries, faults


def state_as_dict(state: WalkState) -> dict[str, Any]:
    return asdict(state)


def state_from_dict(values: dict[str, Any]) -> WalkState:
    return WalkState(**values)


@dataclass
class VerifyReport:
    """The outcome of one verification; `faults` empty means both logs are intact."""

    event_store: dict[str, Any]
    access_log: dict[str, Any]
    faults: list[Fault]

    @property
    def intact(self) -> bool:
        return not self.faults

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "event_store": self.event_store,
            "access_log": self.access_log,
            "faults": [f.as_dict() for f in self.faults],
        }


def verify(
    ledger: SignalLedger,
    engine: Engine,
    public_key: Ed25519PublicKey,
    published: list[Checkpoint] | None,
    state: WalkState | None = None,
    saved: Callable[[WalkState], None] = lambda _state: None,
    show_progress: bool = False,
) -> VerifyReport:
    """Verifies the event store and the access log; `state` continues an interrupted run."""
    stored = stored_checkpoints(engine)
    trusted, faults = check_checkpoints(stored, published, public_key, store_id(engine))
    walk = StoreWalk(ledger, engine, trusted)
    done = walk.run(state or WalkState(), saved, show_progress)
    if len(done.faults) > MAX_REPORTED_FAULTS:
        done.faults = done.faults[:MAX_REPORTED_FAULTS]
    faults += [Fault.from_dict(f) for f in done.faults] + placement_faults(done)
    entries, log_faults = access_log_faults(engine, trusted)
    faults += log_faults
    faults.sort(key=lambda f: (f.log, f.at, f.kind))
    last = trusted[-1].content if trusted else None
    return VerifyReport(
        event_store={
            "records": done.store_records,
            "sealed_up_to": walk.sealed_up_to,
            "unsealed_records": done.unsealed,
            "checkpoints": len(stored),
            "checkpoints_on_kafka": None if published is None else len(published),
            "last_checkpoint": None
            if last is None
            else {
                "seq": last["seq"],
                "notification_id": last["events"]["notification_id"],
                "sealed_at": last["sealed_at"],
            },
        },
        access_log={"entries": entries},
        faults=faults,
    )
