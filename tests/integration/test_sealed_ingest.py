"""Sealed identifiers at the ingest API, in-process on the real broker and real databases.

A sealed BSN or address is opened inside the service and pseudonymised exactly like one sent in
clear; one that cannot be opened (moved, altered, foreign, garbage) is refused naming the field,
and nothing reaches the topic or the receipts. Plain identifiers are refused when configuration
says so, and free text that looks like an identifier is refused everywhere (invariants 1, 8).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from contracts.regions import VtRegion
from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience, TokenAuthority
from privacy.identifier_keys import IdentifierKeyring
from privacy.sealed_identifiers import PublishedKey, SealingContext, seal
from privacy.sealed_submission import ADDRESS_FIELD, bsn_field, sealed_signal
from publisher_sdk import PublisherClient, RetryPolicy
from services.settings import Settings
from services.signals.identifiers import PLAIN_REFUSED
from tests.support.ingest import (
    TopicProbe,
    assert_nothing_changed,
    closed_port,
    ingest_client,
    police_signals,
    police_token,
    receipts,
)

pytestmark = pytest.mark.integration

KEY_PATH = "/v1/keys/identifiers"
HOUR = timedelta(hours=1)
Signal = dict[str, Any]
Spoiler = Callable[[Signal, PublishedKey, PublishedKey], Signal]


@pytest.fixture
def topic_probe(topic: str) -> Iterator[TopicProbe]:
    probe = TopicProbe(topic)
    yield probe
    probe.close()


def radar_key(client: TestClient, headers: dict[str, str]) -> PublishedKey:
    answer = client.get(KEY_PATH, headers=headers)
    assert answer.status_code == 200, answer.text
    return PublishedKey.model_validate(answer.json())


def family_signal() -> Signal:
    """A police signal about two synthetic members of one household."""
    signal = copy.deepcopy(next(s for s in police_signals(40, seed=11) if len(s["persons"]) >= 2))
    signal["persons"] = signal["persons"][:2]
    return signal


def fresh_id(signal: Signal) -> Signal:
    return {**signal, "event_id": str(uuid.uuid4())}


def test_the_public_key_is_served_to_publishers_only(settings: Settings) -> None:
    authority = TokenAuthority(settings.keys_dir)
    analyst = Analyst("ana-1", "veilig-thuis-utrecht", AnalystRole.TRIAGE, VtRegion.VT09)
    with ingest_client(settings) as client:
        assert client.get(KEY_PATH).status_code == 401
        as_analyst = {"Authorization": f"Bearer {authority.issue(analyst, Audience.QUERY, HOUR)}"}
        assert client.get(KEY_PATH, headers=as_analyst).status_code == 401
        key = radar_key(client, police_token(authority))
    on_disk = IdentifierKeyring.load_or_create(settings.keys_dir).current
    assert key.key_id == on_disk.key_id
    assert key.x25519().public_bytes_raw() == on_disk.public_bytes()
    assert (key.kem, key.kdf, key.aead) == (
        "DHKEM(X25519, HKDF-SHA256)",
        "HKDF-SHA256",
        "AES-256-GCM",
    )


def test_sealed_identifiers_give_the_pseudonyms_plain_ones_give(
    settings: Settings, topic_probe: TopicProbe
) -> None:
    authority = TokenAuthority(settings.keys_dir)
    headers = police_token(authority)
    plain = family_signal()
    with ingest_client(settings) as client:
        sealed = sealed_signal(fresh_id(plain), radar_key(client, headers))
        for signal in (plain, sealed):
            answer = client.post("/v1/signals", json=signal, headers=headers)
            assert answer.status_code == 202, answer.text
        again = sealed_signal(
            sealed | {"household": plain["household"]}, radar_key(client, headers)
        )
        again["persons"] = sealed["persons"]  # the same signal with a fresh sealing of the address
        assert client.post("/v1/signals", json=again, headers=headers).status_code == 200

    assert "bsn" not in json.dumps(sealed["persons"]).replace("sealed_bsn", "")
    from_plain, from_sealed = sorted(
        topic_probe.events(), key=lambda e: str(e.event_id) != plain["event_id"]
    )
    assert from_sealed.household == from_plain.household
    assert [p.pseudonym for p in from_sealed.persons] == [p.pseudonym for p in from_plain.persons]
    raw = b"".join(r.key + r.value for r in topic_probe.records())
    for identifier in [p["bsn"] for p in plain["persons"]] + [plain["household"]["postcode"]]:
        assert identifier.encode() not in raw
    ciphertext = sealed["persons"][0]["sealed_bsn"]["ciphertext"]
    assert ciphertext.encode() not in raw  # the sealed value is discarded too
    sent = {plain["event_id"], sealed["event_id"]}
    assert set(receipts(settings, sent)) == sent


def _swap_persons(signal: Signal, _key: PublishedKey, _stranger: PublishedKey) -> Signal:
    signal["persons"][0]["sealed_bsn"], signal["persons"][1]["sealed_bsn"] = (
        signal["persons"][1]["sealed_bsn"],
        signal["persons"][0]["sealed_bsn"],
    )
    return signal


def _bsn_as_address(signal: Signal, _key: PublishedKey, _stranger: PublishedKey) -> Signal:
    signal["household"] = {"sealed_address": signal["persons"][0]["sealed_bsn"]}
    return signal


def _from_another_signal(signal: Signal, _key: PublishedKey, _stranger: PublishedKey) -> Signal:
    return {**signal, "event_id": str(uuid.uuid4())}


def _altered(signal: Signal, _key: PublishedKey, _stranger: PublishedKey) -> Signal:
    sealed = signal["persons"][0]["sealed_bsn"]
    sealed["ciphertext"] = ("B" if sealed["ciphertext"][0] == "A" else "A") + sealed["ciphertext"][
        1:
    ]
    return signal


def _first_bsn_sealed(signal: Signal, bsn: str, key: PublishedKey) -> Signal:
    context = SealingContext(signal["event_id"], bsn_field(0))
    signal["persons"][0]["sealed_bsn"] = seal(bsn, key, context).model_dump()
    return signal


def _unknown_key(signal: Signal, _key: PublishedKey, stranger: PublishedKey) -> Signal:
    return _first_bsn_sealed(signal, "111222333", stranger)


def _garbage(signal: Signal, key: PublishedKey, _stranger: PublishedKey) -> Signal:
    signal["persons"][0]["sealed_bsn"] = {
        "version": 1,
        "key_id": key.key_id,
        "ephemeral_key": "AAAA",
        "ciphertext": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    }
    return signal


def _not_an_envelope(signal: Signal, _key: PublishedKey, _stranger: PublishedKey) -> Signal:
    signal["persons"][0]["sealed_bsn"] = "c2VhbGVk"
    return signal


def _sealed_invalid_bsn(signal: Signal, key: PublishedKey, _stranger: PublishedKey) -> Signal:
    return _first_bsn_sealed(signal, "123456789", key)


def _sealed_invalid_address(signal: Signal, key: PublishedKey, _stranger: PublishedKey) -> Signal:
    context = SealingContext(signal["event_id"], ADDRESS_FIELD)
    address = json.dumps({"postcode": "0123 AB", "house_number": 12})
    signal["household"] = {"sealed_address": seal(address, key, context).model_dump()}
    return signal


UNOPENABLE: dict[str, tuple[Spoiler, set[str]]] = {
    "swapped between persons": (_swap_persons, {"persons.0.sealed_bsn", "persons.1.sealed_bsn"}),
    "a BSN moved into the address": (_bsn_as_address, {"household.sealed_address"}),
    "copied into another signal": (
        _from_another_signal,
        {"household.sealed_address", "persons.0.sealed_bsn", "persons.1.sealed_bsn"},
    ),
    "altered": (_altered, {"persons.0.sealed_bsn"}),
    "sealed to an unknown key": (_unknown_key, {"persons.0.sealed_bsn"}),
    "garbage": (_garbage, {"persons.0.sealed_bsn"}),
    "not an envelope": (_not_an_envelope, {"persons.0.sealed_bsn"}),
    "an invalid BSN, sealed": (_sealed_invalid_bsn, {"persons.0.sealed_bsn"}),
    "an invalid address, sealed": (_sealed_invalid_address, {"household.sealed_address.postcode"}),
}


@pytest.mark.parametrize("case", sorted(UNOPENABLE))
def test_a_sealed_value_that_cannot_be_opened_is_422_naming_the_field(
    settings: Settings, topic_probe: TopicProbe, tmp_path: Path, case: str
) -> None:
    spoil, fields = UNOPENABLE[case]
    stranger = PublishedKey.of(IdentifierKeyring.load_or_create(tmp_path / "elsewhere").current)
    authority = TokenAuthority(settings.keys_dir)
    headers = police_token(authority)
    plain = family_signal()
    with ingest_client(settings) as client:
        key = radar_key(client, headers)
        spoilt = spoil(sealed_signal(plain, key), key, stranger)
        answer = client.post("/v1/signals", json=spoilt, headers=headers)
        batch = client.post("/v1/signals/batch", json={"signals": [spoilt]}, headers=headers)

    assert answer.status_code == 422, answer.text
    assert {e["field"] for e in answer.json()["errors"]} == fields
    assert batch.json()["rejected"] == 1
    for identifier in [p["bsn"] for p in plain["persons"]] + ["111222333", "123456789", "0123"]:
        assert identifier not in answer.text
    assert_nothing_changed(topic_probe, settings, case)


def test_plain_identifiers_are_refused_where_configuration_says_so(
    settings: Settings, topic_probe: TopicProbe
) -> None:
    strict = settings.model_copy(update={"allow_plain_identifiers": False})
    authority = TokenAuthority(strict.keys_dir)
    headers = police_token(authority)
    plain = family_signal()
    with ingest_client(strict) as client:
        refused = client.post("/v1/signals", json=plain, headers=headers)
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"] == [
            {"field": field, "reason": PLAIN_REFUSED}
            for field in ["household"] + [bsn_field(i) for i in range(len(plain["persons"]))]
        ]
        assert_nothing_changed(topic_probe, strict, "plain identifiers")

        half_sealed = sealed_signal(fresh_id(plain), radar_key(client, headers))
        half_sealed["household"] = plain["household"]
        sealed = sealed_signal(fresh_id(plain), radar_key(client, headers))
        batch = client.post(
            "/v1/signals/batch", json={"signals": [half_sealed, sealed]}, headers=headers
        )
    assert batch.status_code == 200, batch.text
    first, second = batch.json()["results"]
    assert first["status"] == "rejected"
    assert first["errors"] == [{"field": "household", "reason": PLAIN_REFUSED}]
    assert second["status"] == "accepted"
    assert [str(e.event_id) for e in topic_probe.events()] == [sealed["event_id"]]
    assert set(receipts(strict, [sealed["event_id"], half_sealed["event_id"]])) == {
        sealed["event_id"]
    }


IDENTIFIER_LOOKING: dict[str, tuple[Callable[[Signal], Signal], str, str]] = {
    "a date of birth in an unexpected field": (
        lambda s: {**s, "note": "geboren 12-03-2015"},
        "note",
        "a date of birth",
    ),
    "an e-mail address as signal type": (
        lambda s: {**s, "signal_type": "j.jansen@example.nl"},
        "signal_type",
        "an e-mail address",
    ),
    "a phone number as a role": (
        lambda s: {**s, "persons": [{**s["persons"][0], "role": "06-12345678"}]},
        "persons.0.role",
        "a phone number",
    ),
    "a phone number as a field name": (
        lambda s: {**s, "+31 6 12345678": "call"},
        "signal",
        "a phone number",
    ),
    "an address in a nested unexpected field": (
        lambda s: {**s, "household": {**s["household"], "previous": "3512 CD 7"}},
        "household.previous",
        "a postcode with house number",
    ),
}


@pytest.mark.parametrize("case", sorted(IDENTIFIER_LOOKING))
def test_identifier_looking_text_is_refused_naming_the_field(
    settings: Settings, topic_probe: TopicProbe, case: str
) -> None:
    leak, field, kind = IDENTIFIER_LOOKING[case]
    headers = police_token(TokenAuthority(settings.keys_dir))
    signal = leak(family_signal())
    with ingest_client(settings) as client:
        answer = client.post("/v1/signals", json=signal, headers=headers)
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert error["field"] == field
    assert kind in error["reason"]
    for value in ("12-03-2015", "jansen", "12345678", "3512"):
        assert value not in answer.text
    assert_nothing_changed(topic_probe, settings, case)


def test_the_sdk_sends_nothing_when_it_cannot_get_the_radars_key() -> None:
    signal = family_signal()
    pauses: list[float] = []
    retry = RetryPolicy(max_attempts=3, sleep=pauses.append)
    with PublisherClient(f"http://127.0.0.1:{closed_port()}", "token", retry=retry) as client:
        [result] = client.publish([signal])
    assert (result.event_id, result.status) == (signal["event_id"], "failed")
    assert not result.delivered and len(pauses) == 3
