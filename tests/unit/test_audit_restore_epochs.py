"""A restore is a new audit epoch: the lost radar's checkpoints after the backup are named as
what the restore does not hold, never as changed or missing; the lineage counts only when the
new store's first checkpoint signs it, so a lineage row written into the database by hand (to
pass a truncation off as a restore) is a fault; a restore not recorded is a truncation still."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit.chain import GENESIS
from services.audit.checkpoint_check import check_checkpoints, truncation_faults
from services.audit.checkpoints import Checkpoint, new_checkpoint
from services.audit.lineage import Lineage, Restore

KEY = Ed25519PrivateKey.generate()
NOW = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
LOST, RESTORED = "store-lost", "store-restored"
# The backup holds the lost store's checkpoints 1..3, up to notification 35 (35 records).
RESTORE = Restore(RESTORED, LOST, 35, 35, 3, NOW)


def _extend(chain: list[Checkpoint], store: str, upto: int, **signed: object) -> list[Checkpoint]:
    """`chain` plus checkpoints of `store` until seq `upto`, one every 10 notifications."""
    made = list(chain)
    while (seq := len(made) + 1) <= upto:
        at = seq * 10
        restore = signed.get("restore") if seq == len(chain) + 1 else None
        made.append(
            new_checkpoint(
                KEY, store, seq, made[-1] if made else None, at, at, GENESIS, None, NOW,
                restore=restore,  # type: ignore[arg-type]
            )
        )  # fmt: skip
    return made


def _epochs(restore: dict[str, object] | None) -> tuple[list[Checkpoint], list[Checkpoint]]:
    """The lost radar's checkpoints 1..6, and the restored database's: 1..3 then its own."""
    lost = _extend([], LOST, 6)
    return lost, _extend(lost[:3], RESTORED, 5, restore=restore)


def test_the_lost_radars_later_checkpoints_are_not_held_and_the_new_epoch_verifies() -> None:
    lost, restored = _epochs(RESTORE.signed_form())

    checked = check_checkpoints(
        restored, lost + restored[3:], KEY.public_key(), Lineage(RESTORED, (RESTORE,))
    )

    assert checked.faults == []
    assert [(c.store, c.seq) for c in checked.lost[RESTORE]] == [(LOST, 4), (LOST, 5), (LOST, 6)]
    assert [(c.store, c.seq) for c in checked.trusted] == [
        (LOST, 1), (LOST, 2), (LOST, 3), (RESTORED, 4), (RESTORED, 5),
    ]  # fmt: skip
    assert truncation_faults(checked.trusted, 50, "the Kafka topic") == []
    assert RESTORE.notice(checked.lost[RESTORE], "the Kafka topic") == (
        f"restored on 2026-12-01T19:00:00+00:00 from store {LOST} at notification 35 (its "
        "checkpoint 3): the lost radar's checkpoints 4..6 (3 on the Kafka topic, up to "
        "notification 60: 25 records after the backup) are not in this store; this store's "
        "own checkpoints follow from 4"
    )


def test_a_lineage_no_checkpoint_signs_is_a_fault_not_an_excuse() -> None:
    lost = _extend([], LOST, 6)
    unsigned = Lineage(RESTORED, (RESTORE,))  # a row added to the database, never signed

    checked = check_checkpoints(lost[:3], lost, KEY.public_key(), unsigned)

    assert [(f.at, f.kind) for f in checked.faults] == [(4, "restore")]
    assert "no checkpoint signs it yet" in checked.faults[0].detail
    _, restored = _epochs(None)  # the new store signed checkpoints, none of them with it
    checked = check_checkpoints(restored, lost + restored[3:], KEY.public_key(), unsigned)
    assert [(f.at, f.detail) for f in checked.faults] == [
        (4, "does not sign the restore the database records (altered lineage)")
    ]


def test_a_lineage_altered_after_signing_is_a_fault() -> None:
    lost, restored = _epochs(RESTORE.signed_form())
    widened = Restore(RESTORED, LOST, 60, 60, 3, NOW)  # "the backup held everything"

    checked = check_checkpoints(
        restored, lost + restored[3:], KEY.public_key(), Lineage(RESTORED, (widened,))
    )

    assert [(f.at, f.kind) for f in checked.faults] == [(4, "restore")]


def test_a_restore_not_recorded_is_a_truncated_store_as_before() -> None:
    lost = _extend([], LOST, 6)

    checked = check_checkpoints(lost[:3], lost, KEY.public_key(), LOST)

    assert [(f.at, f.kind) for f in checked.faults] == [
        (4, "missing"),
        (5, "missing"),
        (6, "missing"),
    ]
    (truncated,) = truncation_faults(checked.trusted, 35, "the Kafka topic")
    assert truncated.kind == "truncated" and "records 36..60 were removed" in truncated.detail
