"""`radar run` keeps the radar up (issue 22, "One crash stops everything"): started as `make run`
starts it, each of its processes is SIGKILLed in turn while publishers and an analyst keep
working. The killed process comes back, the APIs that were not killed never refuse a
connection (ingest answers 202 or 503 + Retry-After, query 200), and every accepted signal
ends up on a timeline exactly once."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka.admin import KafkaAdminClient

from contracts.regions import VtRegion
from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole
from privacy.credentials import Audience, TokenAuthority
from services.database import Database
from services.settings import Settings
from testkit.processes import checkpoints_topic, free_port
from testkit.synthetic import SyntheticHousehold, SyntheticPopulation, sector_of
from tests.chaos.radar_run import PROCESSES, RadarRun
from tests.chaos.scenario import publisher_tokens, synthetic_stream
from tests.support.inspection import every_accepted_recorded_once, timeline_store, wait_for

pytestmark = pytest.mark.chaos
PUBLISHERS = 3
PAUSE_SECONDS = 0.25  # between one publisher's signals: a few hundred over the test


@dataclass(frozen=True)
class Attempt:
    """One request a user made and what came of it."""

    api: str
    started: float
    ended: float
    outcome: str  # "ok", "busy" (503 + Retry-After), "refused", or what else happened


def _outcome(call: Any, ok: frozenset[int]) -> str:
    try:
        answer: httpx.Response = call()
    except httpx.ConnectError:
        return "refused"
    except httpx.HTTPError as error:
        return type(error).__name__
    if answer.status_code in ok:
        return "ok"
    if answer.status_code == 503 and "retry-after" in answer.headers:
        return "busy"
    return f"HTTP {answer.status_code}: {answer.text[:200]}"


class Traffic:
    """Publishers sending signals one by one (retrying with the same event id, as the SDK
    would) and an analyst reading one household's timeline, recording every request."""

    def __init__(self, run: RadarRun, tokens: dict[Sector, str], analyst: str) -> None:
        self.run, self.tokens, self.analyst = run, tokens, analyst
        self.attempts: list[Attempt] = []
        self.accepted: set[str] = set()
        self.failures: list[str] = []  # what ended a publisher thread early
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def publish(self, signal_: dict[str, Any]) -> None:
        """Sends one signal until the radar has it (a stop waits for it: a signal sent but not
        confirmed might be on a timeline without being counted as accepted)."""
        token = self.tokens[sector_of(signal_["signal_type"])]
        deadline = time.monotonic() + 60
        with httpx.Client(base_url=self.run.url("ingest"), timeout=15) as client:
            while time.monotonic() < deadline:
                started = time.monotonic()
                outcome = _outcome(
                    lambda: client.post(
                        "/v1/signals", json=signal_, headers={"Authorization": f"Bearer {token}"}
                    ),
                    frozenset({200, 202}),
                )
                self._record(Attempt("ingest", started, time.monotonic(), outcome))
                if outcome == "ok":
                    with self._lock:
                        self.accepted.add(signal_["event_id"])
                    return
                time.sleep(0.2)
        raise AssertionError(f"a signal was not accepted within 60 s: {outcome}")

    def _ask_timeline(self, client: httpx.Client, address: dict[str, Any]) -> httpx.Response:
        return client.post(
            f"{self.run.url('query')}/v1/households/timeline",
            json={"address": address, "purpose": "medical_review"},
            headers={"Authorization": f"Bearer {self.analyst}"},
        )

    def timeline(self, address: dict[str, Any]) -> list[dict[str, Any]]:
        """The household's timeline as the analyst sees it now."""
        with httpx.Client(timeout=15) as client:
            answer = self._ask_timeline(client, address)
        assert answer.status_code == 200, answer.text
        signals: list[dict[str, Any]] = answer.json()["signals"]
        return signals

    def start(self, signals: list[dict[str, Any]], watched: dict[str, Any]) -> Traffic:
        for index in range(PUBLISHERS):
            share = signals[index::PUBLISHERS]
            self._threads.append(threading.Thread(target=self._publisher, args=(share,)))
        self._threads.append(threading.Thread(target=self._reader, args=(watched,)))
        for thread in self._threads:
            thread.start()
        return self

    def _publisher(self, share: list[dict[str, Any]]) -> None:
        try:
            for signal_ in share:
                if self._stop.wait(PAUSE_SECONDS):
                    return
                self.publish(signal_)
        except AssertionError as failure:
            self.failures.append(str(failure))

    def _reader(self, address: dict[str, Any]) -> None:
        with httpx.Client(timeout=15) as client:
            while not self._stop.wait(0.1):
                started = time.monotonic()
                outcome = _outcome(lambda: self._ask_timeline(client, address), frozenset({200}))
                self._record(Attempt("query", started, time.monotonic(), outcome))

    def _record(self, attempt: Attempt) -> None:
        with self._lock:
            self.attempts.append(attempt)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


@pytest.fixture
def removed_topics(kafka_admin: KafkaAdminClient, settings: Settings) -> Iterator[None]:
    """The test's topics go when it ends (the `topic` fixture only makes them)."""
    yield
    names = {settings.signals_topic, checkpoints_topic(settings)}
    kafka_admin.delete_topics(sorted(names & set(kafka_admin.list_topics())))


def _analyst_token(settings: Settings, region: VtRegion) -> str:
    return TokenAuthority(settings.keys_dir).issue(
        Analyst("vertrouwensarts-1", "vt-test", AnalystRole.CONFIDENTIAL_DOCTOR, region),
        Audience.QUERY,
        timedelta(hours=1),
    )


@dataclass
class _Marker:
    """The household whose timeline the analyst watches, and fresh signals about it."""

    population: SyntheticPopulation
    household: SyntheticHousehold

    def address(self) -> dict[str, Any]:
        return dict(self.household.address())

    def signal(self) -> dict[str, Any]:
        return self.population.signal(self.household, Sector.POLICE)  # medical_review sees it


def _kill_and_see_it_back(run: RadarRun, traffic: Traffic, name: str, marker: _Marker) -> float:
    """SIGKILLs one child; waits until a new one does its work; returns when it was killed."""
    old = run.children()[name]
    killed = time.monotonic()
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: run.children().get(name, old) != old, 30, f"{name} to be restarted")
    if name in ("ingest", "query"):
        wait_for(lambda: run.answers(name), 60, f"{name}'s port to answer again")
    else:  # its work continues: a new signal reaches the timeline through both of them
        before = len(traffic.timeline(marker.address()))
        traffic.publish(marker.signal())
        wait_for(lambda: len(traffic.timeline(marker.address())) > before, 60, f"{name}'s work")
    return killed


def _refusals(traffic: Traffic, outages: dict[str, tuple[float, float]]) -> list[str]:
    """Requests to an API that went wrong while that API's own process was not down."""
    wrong = []
    for attempt in traffic.attempts:
        window = outages.get(attempt.api)
        during_own_outage = window is not None and (
            attempt.ended >= window[0] and attempt.started <= window[1]
        )
        if attempt.outcome not in ("ok", "busy") and not during_own_outage:
            wrong.append(f"{attempt.api} at {attempt.started:.1f}: {attempt.outcome}")
    return wrong


# SQLite, `make run`'s default and the one writer a killed process can leave locked; the
# pipeline-fault tests kill the aggregator on PostgreSQL (CI's half hour has room for one)
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_each_process_killed_in_turn_comes_back_while_the_others_keep_answering(
    settings: Settings, database: Database, removed_topics: None, fault_report: Any
) -> None:
    ported = settings.model_copy(update={"ingest_port": free_port(), "query_port": free_port()})
    tokens = publisher_tokens(ported.keys_dir)
    population = SyntheticPopulation(seed=2200)  # not a household of the stream's seed
    marker = _Marker(population, population.household())
    analyst = _analyst_token(ported, marker.household.region)
    run = RadarRun(ported).start()
    try:
        run.wait_up()
        traffic = Traffic(run, tokens, analyst)
        traffic.publish(marker.signal())
        wait_for(lambda: len(traffic.timeline(marker.address())) == 1, 60, "the first signal")
        traffic.start(synthetic_stream(2000, seed=22), marker.address())
        outages: dict[str, tuple[float, float]] = {}
        for name in PROCESSES:
            time.sleep(2)  # everything up and under load before the next kill
            outages[name] = (_kill_and_see_it_back(run, traffic, name, marker), time.monotonic())
        time.sleep(2)
        traffic.stop()
        accepted = set(traffic.accepted)
        timeline = timeline_store(database)  # with the radar's keys: rows are found by digest

        def on_timeline() -> Counter[str]:
            return Counter(str(entry.signal_id) for entry in timeline.all_entries())

        wait_for(lambda: set(on_timeline()) >= accepted, 60, "every accepted signal on a timeline")
        assert on_timeline() == Counter({event_id: 1 for event_id in accepted})
        timeline.engine.dispose()
        output = run.output()
    finally:
        status = run.stop()
    assert not traffic.failures, traffic.failures
    assert not _refusals(traffic, outages), _refusals(traffic, outages)[:10]
    every_accepted_recorded_once(database, accepted)
    for name in PROCESSES:
        assert f"{name} ended (SIGKILL)" in output, output[-3000:]
    assert "GAVE UP" not in output
    assert status == 0, output[-3000:]
    counted = Counter(a.api for a in traffic.attempts)
    refused = Counter(a.api for a in traffic.attempts if a.outcome == "refused")
    fault_report.add(
        f"`radar run` ({database.engine().dialect.name}): SIGKILL of aggregator, projector, "
        f"ingest, query in turn under {len(accepted)} signals",
        f"each restarted and working again; of {counted['ingest']} ingest and "
        f"{counted['query']} query requests only {refused['ingest']} and {refused['query']} "
        "were refused, each while that API's own process was down; each signal on a timeline "
        "once",
    )


def _running(pid: int) -> bool:
    """Whether the process exists and is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_supervisor_killed_by_sigkill_leaves_no_process_behind(
    settings: Settings, database: Database, removed_topics: None, fault_report: Any
) -> None:
    ported = settings.model_copy(update={"ingest_port": free_port(), "query_port": free_port()})
    run = RadarRun(ported).start()
    children: dict[str, int] = {}
    try:
        run.wait_up()
        children = run.children()
        assert run.popen is not None
        run.popen.kill()
        run.popen.wait()
        wait_for(lambda: not any(map(_running, children.values())), 40, "its processes to end")
        assert not run.answers("ingest") and not run.answers("query")
    finally:
        run.stop()
        for pid in filter(_running, children.values()):
            os.kill(pid, signal.SIGKILL)
    fault_report.add(
        "`radar run` itself SIGKILLed",
        "its four processes ended too (no orphan holds the ports for the next run)",
    )
