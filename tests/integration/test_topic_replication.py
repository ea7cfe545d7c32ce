"""The topics the radar creates carry the replication it is configured for (issue 20), on the
real broker: `min.insync.replicas` from the settings and unclean leader election off (an out-of-
sync copy never becomes the leader and drops acknowledged signals); the ingest API's readiness
reports the signals topic's copies in sync."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.errors import KafkaError

from services.kafka_topics import replication_of
from services.replicas import ReplicaState, ReplicaWatch
from services.settings import Settings
from services.signals_topic import ensure_signals_topic
from tests.support.inspection import wait_for


@pytest.fixture
def new_topic(kafka_admin: KafkaAdminClient) -> Iterator[str]:
    """A name no topic has yet; the topic made under it is removed afterwards."""
    name = f"test.replication.{uuid.uuid4().hex[:12]}"
    yield name
    with contextlib.suppress(KafkaError):
        kafka_admin.delete_topics([name])


def test_the_signals_topic_is_created_with_its_replication_and_no_unclean_election(
    settings: Settings, new_topic: str, kafka_admin: KafkaAdminClient
) -> None:
    made = settings.model_copy(update={"signals_topic": new_topic, "signals_retention_days": 3})
    ensure_signals_topic(made)
    configs: dict[str, str] = {}

    def described() -> bool:  # a topic just made may be described before its configs arrive
        found = kafka_admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, new_topic)])
        configs.update({n: e["value"] for n, e in found["topic"].get(new_topic, {}).items()})
        return "min.insync.replicas" in configs

    wait_for(described, 10, "the new topic's configs")
    assert configs["min.insync.replicas"] == "1"  # the single local broker's
    assert configs["unclean.leader.election.enable"] == "false"
    assert configs["retention.ms"] == str(3 * 24 * 60 * 60 * 1000)
    assert replication_of(made).factor == 1


def test_readiness_sees_the_copies_of_a_topic_and_nothing_of_a_missing_one(
    settings: Settings, new_topic: str
) -> None:
    watch = ReplicaWatch(settings.kafka_bootstrap, settings.signals_topic, 1, refresh_seconds=0)
    missing = ReplicaWatch(settings.kafka_bootstrap, new_topic, 1, refresh_seconds=0)
    try:
        assert watch.state() is ReplicaState.IN_SYNC
        assert missing.state() is ReplicaState.UNKNOWN
    finally:
        watch.close()
        missing.close()
