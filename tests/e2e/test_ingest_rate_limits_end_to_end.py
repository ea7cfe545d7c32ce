"""One publisher's flood does not starve another (issue 22), on the real ingest process, the real
broker and both databases: while organisation A floods past its limit and hears 429 with
Retry-After, organisation B's signals, sent in the same moment, are all accepted; Kafka holds
exactly what was accepted and none of A's refused signals."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from contracts.vocabulary import Sector
from privacy.actors import Publisher
from privacy.credentials import Audience, TokenAuthority
from services.settings import Settings
from testkit.processes import RadarProcess, free_port, wait_until_ready
from tests.support.ingest import TopicProbe, police_signals

RATE = 2  # signals per second per organisation
BURST = 20
BATCH = 10
FLOODERS = 2  # A's threads, each sending FLOOD_BATCHES batches back to back
FLOOD_BATCHES = 10
B_SIGNALS = 20  # one at a time: within B's own burst, however long the flood takes

ORGANISATION_A = Publisher("sys-a", "politie-utrecht", Sector.POLICE)
ORGANISATION_B = Publisher("sys-b", "politie-amsterdam", Sector.POLICE)


def _token(settings: Settings, publisher: Publisher) -> str:
    return TokenAuthority(settings.keys_dir).issue(publisher, Audience.INGEST, timedelta(hours=1))


def test_a_flooding_organisation_gets_429_while_another_is_accepted_in_the_same_moment(
    settings: Settings, topic: str
) -> None:
    ported = settings.model_copy(update={"ingest_port": free_port()})
    flood = police_signals(FLOODERS * FLOOD_BATCHES * BATCH, seed=221)
    steady = police_signals(B_SIGNALS, seed=222)
    tokens = {"A": _token(ported, ORGANISATION_A), "B": _token(ported, ORGANISATION_B)}
    answers: list[tuple[str, list[dict[str, Any]], httpx.Response]] = []
    lock = threading.Lock()
    start = threading.Barrier(FLOODERS + 1)
    url = f"http://127.0.0.1:{ported.ingest_port}"

    def run(who: str, requests: list[tuple[str, Any, list[dict[str, Any]]]]) -> Callable[[], None]:
        def send() -> None:
            headers = {"Authorization": f"Bearer {tokens[who]}"}
            with httpx.Client(base_url=url, timeout=30, headers=headers) as client:
                start.wait()
                for path, body, signals in requests:
                    answer = client.post(path, json=body)
                    with lock:
                        answers.append((who, signals, answer))

        return send

    chunks = [flood[i : i + BATCH] for i in range(0, len(flood), BATCH)]
    flooders = [
        run(
            "A", [("/v1/signals/batch", {"signals": chunk}, chunk) for chunk in chunks[n::FLOODERS]]
        )
        for n in range(FLOODERS)
    ]
    publisher_b = run("B", [("/v1/signals", signal, [signal]) for signal in steady])

    process = RadarProcess(
        "ingest",
        ported,
        extra_env={
            "RADAR_INGEST_RATE_PER_ORGANISATION": str(RATE),
            "RADAR_INGEST_BURST_PER_ORGANISATION": str(BURST),
            "RADAR_MAX_BATCH_SIGNALS": str(BATCH),
        },
    ).start()
    try:
        wait_until_ready(url, process)
        threads = [threading.Thread(target=f) for f in [*flooders, publisher_b]]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
            assert not thread.is_alive(), "a publisher got no answer in time"
    finally:
        process.stop()

    a_answers = [(signals, answer) for who, signals, answer in answers if who == "A"]
    b_answers = [answer for who, _, answer in answers if who == "B"]
    assert [a.status_code for a in b_answers] == [202] * B_SIGNALS, [a.text for a in b_answers]
    assert {answer.status_code for _, answer in a_answers} == {200, 429}
    refused = [(signals, answer) for signals, answer in a_answers if answer.status_code == 429]
    for _, answer in refused:
        assert int(answer.headers["Retry-After"]) >= 1
        assert "rate limit" in answer.json()["detail"]
    accepted_a = {
        s["event_id"] for signals, answer in a_answers if answer.status_code == 200 for s in signals
    }
    refused_a = {s["event_id"] for signals, _ in refused for s in signals}
    assert BURST <= len(accepted_a) < len(flood) // 2  # the burst, a little refill, no more

    probe = TopicProbe(topic)
    try:
        published = {str(event.event_id) for event in probe.events()}
    finally:
        probe.close()
    assert not published & refused_a, "a refused signal reached Kafka"
    assert published == accepted_a | {s["event_id"] for s in steady}

    warnings = [line for line in process.tail(10**6).splitlines() if "rate limit reached" in line]
    assert len(warnings) == 1, warnings  # one per organisation per minute, however many 429s
    assert ORGANISATION_A.organisation in warnings[0]
