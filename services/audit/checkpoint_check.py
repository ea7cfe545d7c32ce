"""Which signed checkpoints `verify` can trust, and what it cannot see without an external copy.

The database's own checkpoint rows can be deleted together with the newest events and their seal
rows; only a copy held elsewhere (the Kafka topic, or a file the auditor keeps) still names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.audit.chain import GENESIS
from services.audit.checkpoints import Checkpoint
from services.audit.faults import Fault
from services.audit.lineage import Lineage, Restore

DATABASE_ONLY = "the database alone"
KAFKA_COPY = "the Kafka topic"
BLIND_SPOT = (
    "deleting the newest events together with their seal and checkpoint rows leaves no trace "
    "in the database"
)


@dataclass
class CheckedCheckpoints:
    """What `check_checkpoints` found: the checkpoints `verify` may trust, the faults, and per
    restore the lost radar's checkpoints signed after the backup (not held, not a fault)."""

    trusted: list[Checkpoint]
    faults: list[Fault]
    lost: dict[Restore, list[Checkpoint]] = field(default_factory=dict)


def check_checkpoints(
    stored: list[Checkpoint],
    published: list[Checkpoint] | None,
    public_key: Ed25519PublicKey,
    store: str | Lineage,
    source: str = KAFKA_COPY,
) -> CheckedCheckpoints:
    """The checkpoints that can be trusted (our signature, unbroken chain), and the faults.

    Each checkpoint of the database must be signed by the store of its epoch (a restored
    store's chain begins with its parent's, up to the backup's checkpoint). With an external
    copy (`published`, read from `source`), a checkpoint missing from the database, or
    different there, is a fault too; the copy's checkpoints then count as trusted.
    """
    lineage = Lineage(store) if isinstance(store, str) else store
    faults: list[Fault] = []
    trusted: dict[int, Checkpoint] = {}
    previous: Checkpoint | None = None
    for checkpoint in stored:
        if not checkpoint.signed_by(public_key) or checkpoint.store != lineage.owner(
            checkpoint.seq
        ):
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
    checked = CheckedCheckpoints([], faults)
    if published is not None:
        faults += _compare_copy(trusted, published, public_key, lineage, source, checked.lost)
    faults += restore_faults(lineage, trusted)
    checked.trusted = sorted(trusted.values(), key=lambda c: (c.notification_id, c.seq))
    return checked


def _compare_copy(
    trusted: dict[int, Checkpoint],
    published: list[Checkpoint],
    public_key: Ed25519PublicKey,
    lineage: Lineage,
    source: str,
    lost: dict[Restore, list[Checkpoint]],
) -> list[Fault]:
    """Each checkpoint of the copy must be in the database as it was signed; adds it if not.
    A parent store's checkpoint after the backup its restore came from goes to `lost`."""
    faults: list[Fault] = []
    seen: set[tuple[str, int]] = set()
    for copy in published:
        if not copy.signed_by(public_key) or copy.store not in lineage.stores:
            faults.append(
                Fault(
                    "checkpoints",
                    _seq_or_zero(copy),
                    "signature",
                    f"rejected: a checkpoint on {source} is not signed with the radar's "
                    "checkpoint key for this store",
                )
            )
            continue
        if (copy.store, copy.seq) in seen:
            continue  # published twice (at-least-once delivery, or exported twice)
        seen.add((copy.store, copy.seq))
        left_behind = lineage.restore_from(copy.store)
        if left_behind is not None and copy.seq > left_behind.checkpoint_seq:
            lost.setdefault(left_behind, []).append(copy)
            continue
        mine = trusted.get(copy.seq)
        if copy.store != lineage.owner(copy.seq):
            faults.append(
                Fault(
                    "checkpoints",
                    copy.seq,
                    "chain",
                    f"a checkpoint of store {copy.store} on {source} where this store's "
                    f"lineage has store {lineage.owner(copy.seq)}",
                )
            )
        elif mine is None:
            faults.append(
                Fault(
                    "checkpoints",
                    copy.seq,
                    "missing",
                    f"signed checkpoint on {source} is missing from the database",
                )
            )
            trusted[copy.seq] = copy
        elif mine.body != copy.body:
            faults.append(
                Fault(
                    "checkpoints", copy.seq, "changed", f"differs from the signed copy on {source}"
                )
            )
            trusted[copy.seq] = copy
    return faults


def restore_faults(lineage: Lineage, trusted: dict[int, Checkpoint]) -> list[Fault]:
    """Every restore the database records must be signed by the first checkpoint of its store:
    an unsigned lineage row is anyone's claim, and does not excuse a truncation."""
    faults: list[Fault] = []
    for restore in lineage.restores:
        first = restore.checkpoint_seq + 1
        signed = trusted.get(first)
        if signed is None or signed.store != restore.store:
            detail = (
                f"the database records a restore from store {restore.parent} at notification "
                f"{restore.notification_id}, but no checkpoint signs it yet: if this database "
                "was restored from that backup, run `radar backup check` with its keys in "
                "place (it signs the restore); otherwise the row was not written by a restore"
            )
            faults.append(Fault("checkpoints", first, "restore", detail))
        elif signed.content.get("restore") != restore.signed_form():
            detail = "does not sign the restore the database records (altered lineage)"
            faults.append(Fault("checkpoints", first, "restore", detail))
    return faults


def truncation_faults(trusted: list[Checkpoint], end: int, source: str) -> list[Fault]:
    """A signed checkpoint beyond the end of the store: its newest records were removed."""
    beyond = [c for c in trusted if c.notification_id > end]
    if not beyond:
        return []
    last = max(beyond, key=lambda c: c.notification_id)
    return [
        Fault(
            "event_store",
            end + 1,
            "truncated",
            f"the store ends at notification {end}, but signed checkpoint {last.seq} (on "
            f"{source}) covers up to notification {last.notification_id}: records "
            f"{end + 1}..{last.notification_id} were removed",
        )
    ]


def blind_spot(source: str | None, published: list[Checkpoint] | None) -> str:
    """What this run could not see: said every time, so `intact` is never read as more."""
    if source is None or not published:
        return (
            f"Checked against {DATABASE_ONLY}: {BLIND_SPOT}, so such a truncation cannot be "
            "seen here; keep an external copy (`radar audit checkpoints export FILE`) and verify "
            "with `--checkpoints-file FILE` (or against Kafka) to see it."
        )
    newest = max(published, key=_seq_or_zero)
    return (
        f"Checked against {source} up to its newest checkpoint {newest.seq} (notification "
        f"{newest.notification_id}): for events recorded after it, {BLIND_SPOT}; export the "
        "checkpoints again to extend the copy."
    )


def _seq_or_zero(checkpoint: Checkpoint) -> int:
    try:
        return checkpoint.seq
    except (KeyError, TypeError, ValueError):
        return 0
