"""`radar audit verify`: is the event store (and the access log) still what was sealed?

Three independent checks, each locating what it finds:

- every stored record is compared with the seal table, row by row, by notification id: a
  changed byte, a removed, inserted or moved (reordered, swapped) record is named by its id;
- the chain is recomputed from the store itself and compared with every signed checkpoint, so
  a store rewritten together with the seal table is still caught (between two checkpoints);
- checkpoints must carry the radar's signature and form an unbroken chain, and the external
  copy (Kafka, or a file the auditor holds) must hold the same ones, so a checkpoint removed or
  forged in the database is caught too, and so is a store truncated together with its
  checkpoint rows. Without such a copy that truncation cannot be seen, and the report says so.

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
from services.audit.checkpoint_check import (
    DATABASE_ONLY,
    KAFKA_COPY,
    blind_spot,
    check_checkpoints,
    truncation_faults,
)
from services.audit.checkpoints import Checkpoint, audit_checkpoints
from services.audit.faults import Fault
from services.audit.lineage import Lineage, lineage
from services.audit.placement import placement_faults
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
    """The outcome of one verification; `faults` empty means both logs are intact as far as
    `checked_against` can tell, and `cannot_see` says what lies beyond that."""

    event_store: dict[str, Any]
    access_log: dict[str, Any]
    faults: list[Fault]
    checked_against: str = DATABASE_ONLY
    cannot_see: str = ""
    external_copy: str | None = None  # where the copy of the checkpoints was read, if any
    # each restore this store descends from: its lineage, the lost radar's checkpoints after
    # it (seqs) and the line that says so; recorded and signed, so not a fault
    restores: list[dict[str, Any]] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.faults

    @property
    def verdict(self) -> str:
        if not self.intact:
            return f"{len(self.faults)} faults"
        if self.checked_against == DATABASE_ONLY:
            return "intact as far as the database alone can tell"
        return f"intact (checked against {self.checked_against})"

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "verdict": self.verdict,
            "checked_against": self.checked_against,
            "cannot_see": self.cannot_see,
            "external_copy": self.external_copy,
            "event_store": self.event_store,
            "access_log": self.access_log,
            "faults": [f.as_dict() for f in self.faults],
            "restores": self.restores,
        }


def verify(
    ledger: SignalLedger,
    engine: Engine,
    public_key: Ed25519PublicKey,
    published: list[Checkpoint] | None,
    state: WalkState | None = None,
    saved: Callable[[WalkState], None] = lambda _state: None,
    show_progress: bool = False,
    source: str = KAFKA_COPY,
) -> VerifyReport:
    """Verifies the event store and the access log; `state` continues an interrupted run.

    `published` is the external copy of the checkpoints (read from `source`), None for none.
    """
    stored = stored_checkpoints(engine)
    lineage = store_lineage(engine)
    checked = check_checkpoints(stored, published, public_key, lineage, source)
    trusted, faults = checked.trusted, checked.faults
    walk = StoreWalk(ledger, engine, trusted)
    done = walk.run(state or WalkState(), saved, show_progress)
    if len(done.faults) > MAX_REPORTED_FAULTS:
        done.faults = done.faults[:MAX_REPORTED_FAULTS]
    faults += [Fault.from_dict(f) for f in done.faults] + placement_faults(done)
    faults += truncation_faults(trusted, walk.end, source)
    entries, log_faults = access_log_faults(engine, trusted)
    faults += log_faults
    faults.sort(key=lambda f: (f.log, f.at, f.kind))
    last = trusted[-1].content if trusted else None
    external = None if published is None else source
    lost = {id(c) for found in checked.lost.values() for c in found}
    held = None if published is None else [c for c in published if id(c) not in lost]
    return VerifyReport(
        event_store={
            "records": done.store_records,
            "sealed_up_to": walk.sealed_up_to,
            "unsealed_records": done.unsealed,
            "checkpoints": len(stored),
            "checkpoints_on_kafka": None
            if published is None or source != KAFKA_COPY
            else len(published),
            "checkpoints_in_copy": None if published is None else len(published),
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
        checked_against=DATABASE_ONLY if not published or external is None else external,
        cannot_see=blind_spot(external, held),
        external_copy=external,
        restores=[
            {
                "store": restore.store,
                **restore.signed_form(),
                "lost_checkpoints": sorted(c.seq for c in checked.lost.get(restore, [])),
                "notice": restore.notice(checked.lost.get(restore, []), external),
            }
            for restore in lineage.restores
        ],
    )


def store_lineage(engine: Engine) -> Lineage:
    """This store and the restores it descends from (services/audit/lineage.py)."""
    store = store_id(engine)
    with engine.connect() as connection:
        return lineage(connection, store)
