"""Ingest dumps each event to JSON once (issue 15), for its Kafka record and its receipt's
fingerprint: the bytes and the hash made from that one form are those made from the event
itself, for any v1 or v2 signal, rekeyed after a key rotation or not."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy.addresses import HomeAddress
from privacy.storage.vault import Identity
from services.signals.pending import Pending
from services.signals.publisher import SignalEvent, serialise
from services.signals.store import ReceiptBook, content_hash, json_content_hash
from tests.support.contract_strategies import v1_signals, v2_signals

PROPERTY = settings(max_examples=100, deadline=None)
signals = st.one_of(v1_signals(), v2_signals())


def radar_times(reported_by_publisher: bool) -> set[str]:
    return {"received_at"} if reported_by_publisher else {"received_at", "reported_at"}


class UnkeyedReceipts:
    """The receipts' fingerprint without its key (the keying is the same for both paths)."""

    def fingerprint(self, content: Mapping[str, Any], reported_by_publisher: bool) -> str:
        return json_content_hash(content, radar_times(reported_by_publisher))


def pending(event: SignalEvent, reported_by_publisher: bool) -> Pending:
    identity = Identity(event.household, HomeAddress("1234AB", 1), ())
    receipts = cast(ReceiptBook, UnkeyedReceipts())
    return Pending(receipts, 0, event, reported_by_publisher, identity)


@PROPERTY
@given(signals, st.booleans())
def test_one_json_form_gives_the_records_bytes_and_the_content_hash(
    event: SignalEvent, reported_by_publisher: bool
) -> None:
    form = event.model_dump(mode="json")
    times = radar_times(reported_by_publisher)
    assert orjson.dumps(form) == serialise(event)
    assert json_content_hash(form, times) == content_hash(event, times)


@PROPERTY
@given(signals, st.booleans())
def test_a_pending_signal_is_sent_as_serialised_and_fingerprinted_as_first_known(
    event: SignalEvent, reported_by_publisher: bool
) -> None:
    signal = pending(event, reported_by_publisher)
    assert signal.value() == serialise(event)
    times = radar_times(reported_by_publisher)
    assert signal.fingerprint() == content_hash(event.canonical(), times)


@PROPERTY
@given(signals)
def test_a_link_learnt_from_the_vault_changes_the_record_it_is_sent_as(event: SignalEvent) -> None:
    signal = pending(event.model_copy(update={"known_as": ()}), True)
    before = (signal.value(), signal.fingerprint())
    signal.known_as(event.known_as)
    assert signal.value() == serialise(event)
    assert signal.fingerprint() == content_hash(event.canonical(), radar_times(True))
    if not event.known_as:
        assert (signal.value(), signal.fingerprint()) == before
