"""A household's records keep their partition: the ingest producer's partitioner hashes a key
exactly as kafka-python's default partitioner (the Java client's murmur2) does, so records
written before, by either, and after the change land in the same partition."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from kafka.partitioner.default import murmur2 as kafka_murmur2

from services.signals.publisher import murmur2

PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(st.binary(max_size=80))
def test_murmur2_is_kafkas_for_any_bytes(key: bytes) -> None:
    assert murmur2(key) == kafka_murmur2(key)


@PROPERTY
@given(st.integers(1, 999_999), st.binary(min_size=16, max_size=16))
def test_murmur2_is_kafkas_for_household_keys(version: int, digest: bytes) -> None:
    household = f"hh.k{version}.{digest.hex()}".encode()
    assert murmur2(household) == kafka_murmur2(household)
