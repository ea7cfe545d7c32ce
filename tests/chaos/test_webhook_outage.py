"""Webhook delivery through a receiver down for a minute and the deliverer SIGKILLed
mid-delivery and started again (issue 17): every item delivered, none lost, in cursor order of
first arrival; an item that arrived twice carries the same id and the same bytes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from contracts.regions import VtRegion
from privacy.actors import Analyst, AnalystRole
from privacy.policy import PolicyDecisionPoint
from privacy.purposes import PurposeRegister
from services import bootstrap
from services.database import Database
from services.delivery.service import Webhooks
from services.delivery.signing import Signing
from testkit.processes import REPO, environment
from tests.chaos.conftest import FaultReport
from tests.support.feed_table import KIND, PURPOSE, TableFeed
from tests.support.feeds import SECRET, harness_settings
from tests.support.inspection import wait_for
from tests.support.webhook_receiver import WebhookReceiver

RECEIVER_DOWN_SECONDS = 60  # issue 17: "the receiver down for a minute"
ITEMS_BEFORE, ITEMS_DURING = 40, 20
ORGANISATION = "huisartsen-utrecht"


def _deliverer(settings_env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.support.deliver_process"],
            cwd=REPO,
            env=settings_env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # a minute is enough once
def test_every_item_arrives_through_an_outage_and_a_sigkill(
    tmp_path: Path, database: Database, fault_report: FaultReport
) -> None:
    receiver = WebhookReceiver(tmp_path / "receiver", SECRET.encode())
    receiver.delay_seconds = 0.05  # each answer takes a while: a kill lands mid-delivery
    receiver.start()
    settings = harness_settings(tmp_path, database, receiver.ca).model_copy(
        update={"webhooks_max_attempts": 1000, "webhooks_backoff_cap_seconds": 2.0}
    )
    env = environment(
        settings,
        RADAR_PURPOSE_REGISTER=str(settings.purpose_register),
        RADAR_WEBHOOKS_ALLOW_LOOPBACK="true",
        RADAR_WEBHOOKS_CA_BUNDLE=str(receiver.ca),
        RADAR_WEBHOOKS_MAX_ATTEMPTS="1000",
        RADAR_WEBHOOKS_BACKOFF_SECONDS="0.2",
        RADAR_WEBHOOKS_BACKOFF_CAP_SECONDS="2",
        RADAR_DELIVERER_IDLE_SECONDS="0.1",
    )
    parts = bootstrap.Parts(settings)
    feed = TableFeed(parts.engine)
    register = PurposeRegister.load(settings.purpose_register)
    actor = Analyst("c.de-vries", ORGANISATION, AnalystRole.REPORTER, VtRegion("VT09"))
    webhooks = Webhooks(bootstrap.webhook_store(parts), [feed], PolicyDecisionPoint(register), True)
    webhooks.register(actor, KIND, receiver.url, Signing.HMAC, SECRET, PURPOSE)
    items = [feed.add(ORGANISATION, {"status": f"s{n}"}) for n in range(ITEMS_BEFORE)]
    log = tmp_path / "deliver.out"
    process = _deliverer(env, log)
    try:
        wait_for(lambda: len(receiver.taken()) >= ITEMS_BEFORE // 3, 60, "the first deliveries")
        process.send_signal(signal.SIGKILL)  # mid-delivery: the receiver answers slowly
        process.wait()
        receiver.stop()
        process = _deliverer(env, log)
        items += [feed.add(ORGANISATION, {"status": f"d{n}"}) for n in range(ITEMS_DURING)]
        time.sleep(RECEIVER_DOWN_SECONDS)  # the deliverer keeps trying, backing off
        receiver.start()  # the same port again
        wait_for(lambda: len({r.id for r in receiver.taken()}) == len(items), 60, "every item")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        receiver.stop()
        parts.close()
    taken = receiver.taken()
    first_seen = list(dict.fromkeys(r.id for r in taken))
    assert first_seen == [str(item.id) for item in items]  # all, in cursor order
    assert all(r.verified for r in receiver.received)
    bodies: dict[str, set[bytes]] = {}
    for r in taken:
        bodies.setdefault(r.id, set()).add(r.body)
    assert all(len(sent) == 1 for sent in bodies.values())  # a duplicate is the same delivery
    assert webhooks.store.dead_letters() == []
    duplicates = sum(count - 1 for count in Counter(r.id for r in taken).values())
    refused = sum(1 for r in receiver.received if r.answered >= 300)
    fault_report.add(
        f"webhook receiver down {RECEIVER_DOWN_SECONDS} s and `radar deliver` SIGKILLed "
        f"mid-delivery ({database.engine().dialect.name})",
        f"all {len(items)} items delivered in order once the receiver was back; "
        f"{duplicates} duplicates, each with the same id and bytes; {refused} refused; "
        "no dead letter",
    )
