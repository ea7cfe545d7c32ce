"""Where the real Kafka broker and PostgreSQL server are: the addresses `make test`, `make chaos`
and `make bench` start them on, unless the environment names others."""

from __future__ import annotations

import os

KAFKA_BOOTSTRAP = os.environ.get("RADAR_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
POSTGRES_URL = os.environ.get(
    "RADAR_TEST_POSTGRES_URL", "postgresql://radar:radar@127.0.0.1:54329/radar"
)
