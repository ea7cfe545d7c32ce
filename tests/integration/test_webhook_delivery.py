"""Webhooks against a local HTTPS receiver on 127.0.0.1 (its certificate from a test CA), on a
real database: every item delivered once, in order, signed (the receiver verifies), its id the
idempotency key; a receiver answering 500 gets the item again after a backoff, with the same
id, until it takes it; an item still refused after the limit is a dead letter (which item,
never its body), the cursor goes on past it, and an operator's replay delivers it; every
attempt is an access-log entry without the body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from privacy.key_encryption import FileKeyEncryptionKey
from privacy.policy import PolicyDecisionPoint
from privacy.purposes import DEFAULT_REGISTER, PurposeRegister
from services import bootstrap
from services.audit.listing import row
from services.database import Database
from services.delivery.cli import webhooks_cli
from services.delivery.signing import webhook_signing_key
from services.delivery.tables import dead_letters
from tests.support.feed_table import KIND, PURPOSE
from tests.support.feeds import SECRET, FeedHarness, feed_harness
from tests.support.webhook_receiver import WebhookReceiver, receiving

OURS, THEIRS = "huisartsen-utrecht", "politie-midden-nederland"


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[WebhookReceiver]:
    with receiving(tmp_path / "receiver", SECRET.encode()) as made:
        yield made


@pytest.fixture
def harness(tmp_path: Path, database: Database, receiver: WebhookReceiver) -> Iterator[FeedHarness]:
    with feed_harness(tmp_path, database, receiver.ca) as made:
        receiver.public_key = webhook_signing_key(made.settings.keys_dir).public_key()
        yield made


def _register(harness: FeedHarness, url: str = "", **changes: Any) -> Any:
    body = {
        "kind": KIND,
        "url": url,
        "signing": "hmac-sha256",
        "secret": SECRET,
        "feed_purpose": PURPOSE,
        **changes,
    }
    return harness.client.post(
        "/v1/webhooks",
        params={"purpose": "webhook_registration"},
        json=body,
        headers=harness.headers(OURS),
    )


@pytest.mark.parametrize("signing", ["hmac-sha256", "ed25519"])
def test_every_item_is_delivered_once_in_order_signed_with_its_id(
    harness: FeedHarness, receiver: WebhookReceiver, signing: str
) -> None:
    ours = harness.fill(OURS, THEIRS, 3)
    secret = SECRET if signing == "hmac-sha256" else None
    made = _register(harness, receiver.url, signing=signing, secret=secret)
    assert made.status_code == 201, made.text
    assert SECRET not in made.text and "secret" not in made.json()
    harness.turn_until_quiet()
    taken = receiver.taken()
    assert [r.id for r in taken] == ours  # once each, in order, none of theirs
    assert all(r.verified for r in taken)
    assert all(r.headers["Radar-Signature"].startswith(f"{signing}=") for r in taken)
    assert [r.document["id"] for r in taken] == ours
    assert [r.document["body"]["status"] for r in taken] == ["s0", "s1", "s2"]
    feed = harness.client.get(
        f"/v1/feeds/{KIND}", params={"purpose": PURPOSE}, headers=harness.headers(OURS)
    ).json()
    assert [item["id"] for item in feed["items"]] == ours  # the ids a reader of the feed sees
    listed = harness.client.get(
        "/v1/webhooks", params={"purpose": "webhook_registration"}, headers=harness.headers(OURS)
    ).json()
    assert listed[0]["delivered_after"] == feed["next_after"]
    exports = harness.exports()
    assert [(e["recipient"], e["kind"], e["records"], e["item"]) for e in exports] == [
        (OURS, KIND, 1, item) for item in ours
    ]
    assert all("body" not in e and "s0" not in str(e) for e in exports)
    rows = [row(e) for e in harness.log.entries() if e.kind == "export"]
    assert {(r["operator"], r["category"]) for r in rows} == {
        ("radar deliver", "verstrekt aan externe ontvanger")
    }


def test_a_receiver_answering_500_gets_the_item_again_after_a_backoff(
    harness: FeedHarness, receiver: WebhookReceiver
) -> None:
    ours = harness.fill(OURS, THEIRS, 2)
    assert _register(harness, receiver.url).status_code == 201
    receiver.answers = [500, 503]
    assert harness.deliverer.turn() == 1  # the first item, refused
    assert harness.deliverer.turn() == 0  # waiting: not due yet
    [webhook] = harness.deliverer.store.active()
    assert (webhook.attempts, webhook.last_status) == (1, "500")
    assert webhook.next_attempt_at is not None and webhook.next_attempt_at > harness.clock()
    harness.turn_until_quiet()
    assert [r.id for r in receiver.received] == [ours[0], ours[0], ours[0], ours[1]]
    assert [r.answered for r in receiver.received] == [500, 503, 200, 200]
    assert [r.id for r in receiver.taken()] == ours
    [webhook] = harness.deliverer.store.active()
    assert (webhook.attempts, webhook.last_status) == (0, "200")
    assert len(harness.exports()) == 4  # every attempt logged


def _operator_lists_dead_letters() -> str:
    """What `radar webhooks dead-letters` prints to the operator."""
    listed = CliRunner().invoke(webhooks_cli, ["dead-letters"])
    assert listed.exit_code == 0, listed.output
    return listed.output


def test_an_item_refused_past_the_limit_is_a_dead_letter_an_operator_replays(
    harness: FeedHarness,
    receiver: WebhookReceiver,
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RADAR_DATA_DIR", str(harness.settings.data_dir))
    monkeypatch.setenv("RADAR_DATABASE_URL", database.url)
    assert _operator_lists_dead_letters() == "no dead letters\n"
    ours = harness.fill(OURS, THEIRS, 2)
    assert _register(harness, receiver.url).status_code == 201
    receiver.answers = [500, 500, 500]  # RADAR_WEBHOOKS_MAX_ATTEMPTS=3 in the harness
    harness.turn_until_quiet()
    assert [r.id for r in receiver.taken()] == [ours[1]]  # the next item was not held back
    store = harness.deliverer.store
    [letter] = store.dead_letters()
    assert (letter.item, letter.attempts, letter.last_status) == (ours[0], 3, "500")
    engine = database.engine()
    with engine.connect() as connection:
        row = connection.execute(select(dead_letters)).one()._asdict()
    engine.dispose()
    assert "s0" not in str(row)  # which item, never its body
    listed = _operator_lists_dead_letters()
    assert f"item {ours[0]}  attempts 3  last 500  dead" in listed and "s0" not in listed
    assert store.request_replay([letter.id]) == 1
    harness.turn_until_quiet()
    assert [r.id for r in receiver.taken()] == [ours[1], ours[0]]
    assert receiver.taken()[-1].document["body"] == {"status": "s0"}
    [replayed] = store.dead_letters()
    assert replayed.replayed_at is not None
    assert store.request_replay([letter.id]) == 0  # delivered: nothing left to replay
    assert harness.exports()[-1]["replay"] is True


def test_a_registration_is_refused_with_the_field_and_why(
    harness: FeedHarness, receiver: WebhookReceiver
) -> None:
    before = harness.exports()
    cases = [
        ({"url": "http://127.0.0.1:9/x"}, "url", "https"),
        ({"url": "https://169.254.169.254/latest"}, "url", "link-local"),
        ({"url": "https://user:pw@receiver.example/x"}, "url", "password"),
        ({"secret": "short"}, "secret", "32"),
        ({"signing": "ed25519"}, "secret", "absent"),
        ({"kind": "gossip"}, "kind", KIND),
    ]
    for changes, field, why in cases:
        answer = _register(harness, **{"url": receiver.url, **changes})
        assert answer.status_code == 422, (changes, answer.text)
        errors = answer.json()["errors"]
        assert [e["field"] for e in errors] == [field], changes
        assert why in errors[0]["reason"]
        assert "pw@" not in answer.text
    refused = _register(harness, receiver.url, feed_purpose="triage")
    assert refused.status_code == 403
    assert harness.deliverer.store.active() == [] and harness.exports() == before


def test_an_organisation_sees_and_removes_only_its_own_webhooks(
    harness: FeedHarness, receiver: WebhookReceiver
) -> None:
    made = _register(harness, receiver.url).json()
    params = {"purpose": "webhook_registration"}
    theirs = harness.client.get("/v1/webhooks", params=params, headers=harness.headers(THEIRS))
    assert theirs.json() == []
    path = f"/v1/webhooks/{made['id']}"
    other = harness.client.delete(path, params=params, headers=harness.headers(THEIRS))
    assert other.status_code == 404
    own = harness.client.delete(path, params=params, headers=harness.headers(OURS))
    assert own.status_code == 204
    assert harness.deliverer.store.secret(made["id"]) is None  # its secret is gone with it
    harness.fill(OURS, THEIRS, 1)
    assert harness.deliverer.turn() == 0 and receiver.received == []


def test_a_shared_secret_survives_a_kek_rotation_and_the_old_keks_retirement(
    harness: FeedHarness, receiver: WebhookReceiver
) -> None:
    ours = harness.fill(OURS, THEIRS, 1)
    assert _register(harness, receiver.url).status_code == 201
    database = bootstrap.database(harness.settings)
    old = database.key_encryption_key().current_id
    FileKeyEncryptionKey.rotate(database.kek_path())
    assert bootstrap.rewrap_data_keys(harness.settings) >= 1
    assert bootstrap.still_wrapped_under(harness.settings, old) == 0
    database.key_encryption_key().retire(old)
    harness.turn_until_quiet()
    assert [r.id for r in receiver.taken()] == ours and receiver.taken()[0].verified


def test_a_purpose_withdrawn_from_the_register_stops_the_deliveries(
    harness: FeedHarness, receiver: WebhookReceiver
) -> None:
    ours = harness.fill(OURS, THEIRS, 2)
    assert _register(harness, receiver.url).status_code == 201
    granting = harness.deliverer.policy
    harness.deliverer.policy = PolicyDecisionPoint(PurposeRegister.load(DEFAULT_REGISTER))
    assert harness.deliverer.turn() == 0  # the radar's own register lacks the test purpose
    [webhook] = harness.deliverer.store.active()
    assert (webhook.last_status, webhook.attempts) == ("refused by the purpose register", 0)
    assert receiver.received == [] and harness.exports() == []
    harness.deliverer.policy = granting  # granted again: nothing was counted against an item
    harness.turn_until_quiet()
    assert [r.id for r in receiver.taken()] == ours
