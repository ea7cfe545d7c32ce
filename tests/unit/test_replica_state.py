"""The ingest API's view of the signals topic's copies (issue 20): a partition with fewer copies
in sync than `min.insync.replicas`, or without a leader, refuses every write, so ingest is not
ready; one short of its replicas but with enough still takes signals and is only reported."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from services.replicas import ReplicaState, state_of
from services.settings import Settings


def _partition(index: int, replicas: list[int], isr: list[int], leader: int = 1) -> dict[str, Any]:
    return {
        "partition_index": index,
        "leader_id": leader,
        "replica_nodes": replicas,
        "isr_nodes": isr,
    }


def test_every_copy_in_sync_takes_writes() -> None:
    found = [_partition(p, [1, 2, 3], [1, 2, 3]) for p in range(6)]
    assert state_of(found, min_insync=2) is ReplicaState.IN_SYNC
    assert ReplicaState.IN_SYNC.takes_writes


def test_a_broker_lost_leaves_partitions_under_replicated_but_writable() -> None:
    found = [_partition(0, [1, 2, 3], [1, 2, 3]), _partition(1, [1, 2, 3], [1, 3])]
    state = state_of(found, min_insync=2)
    assert state is ReplicaState.UNDER_REPLICATED and state.takes_writes


def test_fewer_in_sync_than_the_minimum_refuses_writes() -> None:
    found = [_partition(0, [1, 2, 3], [1, 2]), _partition(1, [1, 2, 3], [3])]
    state = state_of(found, min_insync=2)
    assert state is ReplicaState.BELOW_MIN_INSYNC and not state.takes_writes


def test_a_partition_without_a_leader_refuses_writes() -> None:
    found = [_partition(0, [1, 2, 3], [1, 2, 3]), _partition(1, [1, 2, 3], [2, 3], leader=-1)]
    assert state_of(found, min_insync=2) is ReplicaState.BELOW_MIN_INSYNC


def test_no_partitions_described_is_unknown() -> None:
    assert state_of([], min_insync=1) is ReplicaState.UNKNOWN


def test_a_minimum_above_the_replication_factor_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="MIN_INSYNC_REPLICAS exceeds"):
        Settings(signals_replication_factor=1, signals_min_insync_replicas=2)
    made = Settings(signals_replication_factor=3, signals_min_insync_replicas=2)
    assert (made.signals_replication_factor, made.signals_min_insync_replicas) == (3, 2)
