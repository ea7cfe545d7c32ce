"""Publishers are organisations with certificates (issue 22): the real ingest process, served
with mutual TLS against a CA made in the test, on the real broker. A publisher gets in only with
a certificate from that CA and a token bound to that very certificate (RFC 8705): a connection
without one, or with one from another CA, is refused in the handshake; a token bound to another
organisation's certificate, or bound to none, is a 401. Nothing refused reaches Kafka."""

from __future__ import annotations

import json
import secrets
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from contracts.vocabulary import Sector
from privacy.actors import Publisher
from privacy.credentials import NOT_BOUND, Audience, TokenAuthority
from services.settings import Settings
from testkit.processes import RadarProcess, free_port, run_radar
from testkit.synthetic import SyntheticPopulation
from tests.support.ingest import TopicProbe
from tests.support.local_ca import Issued, LocalCa, client_context

POLICE, SCHOOL = "politie-utrecht", "school-de-linde"


@dataclass
class MutualTlsIngest:
    """The running ingest API, the CA it trusts, and two organisations' certificates."""

    url: str
    settings: Settings
    ca: LocalCa
    police: Issued
    school: Issued

    def client(
        self, presented: Issued | None, newest: ssl.TLSVersion | None = None
    ) -> httpx.Client:
        """A publisher's HTTPS client: trusts the radar's CA, presents a certificate or none."""
        context = client_context(self.ca.cert, presented, newest)
        return httpx.Client(base_url=self.url, verify=context, timeout=10)

    def publish(
        self, presented: Issued | None, token: str, sector: Sector = Sector.POLICE
    ) -> httpx.Response:
        """One new signal of the sector, about synthetic people, with this token over this
        connection."""
        population = SyntheticPopulation(seed=secrets.randbits(32))
        with self.client(presented) as client:
            return client.post(
                "/v1/signals",
                json=population.signal(population.household(), sector),
                headers={"Authorization": f"Bearer {token}"},
            )


def _wait_until_ready(ingest: MutualTlsIngest, process: RadarProcess) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.alive():
        try:
            with ingest.client(ingest.police) as client:
                if client.get("/health/ready").status_code == 200:
                    return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"ingest did not become ready over mutual TLS:\n{process.tail()}")


@pytest.fixture
def ingest(settings: Settings, tmp_path: Path) -> Iterator[MutualTlsIngest]:
    ca = LocalCa(tmp_path / "pki", "radar-publishers")
    server = ca.server()
    ported = settings.model_copy(update={"ingest_port": free_port()})
    tls_env = {
        "RADAR_INGEST_TLS_CERT": str(server.cert),
        "RADAR_INGEST_TLS_KEY": str(server.key),
        "RADAR_INGEST_CLIENT_CA": str(ca.cert),
    }
    running = MutualTlsIngest(
        f"https://127.0.0.1:{ported.ingest_port}",
        ported,
        ca,
        ca.client(POLICE),
        ca.client(SCHOOL),
    )
    process = RadarProcess("ingest", ported, extra_env=tls_env).start()
    try:
        _wait_until_ready(running, process)
        yield running
    finally:
        process.stop()


def _bound_token(settings: Settings, organisation: str, sector: str, cert: Path) -> str:
    """A publisher's token bound to its certificate, minted as an operator does."""
    minted = run_radar(
        settings,
        *("admin", "token", "publisher", "--subject", f"sys-{organisation}"),
        *("--organisation", organisation, "--sector", sector, "--client-cert", str(cert)),
    )
    assert minted.returncode == 0, minted.stderr
    return minted.stdout.strip()


def test_only_the_organisation_with_its_certificate_and_bound_token_gets_in(
    ingest: MutualTlsIngest, topic: str, tmp_path: Path
) -> None:
    kafka = TopicProbe(topic)
    try:
        police_token = _bound_token(ingest.settings, POLICE, "police", ingest.police.cert)
        school_token = _bound_token(ingest.settings, SCHOOL, "education", ingest.school.cert)

        accepted = ingest.publish(ingest.police, police_token)
        assert accepted.status_code == 202, accepted.text
        # the same through `radar publish` (the SDK), its identifiers sealed, as a publisher runs it
        token_file, signals_file = tmp_path / "politie.token", tmp_path / "signals.jsonl"
        token_file.write_text(police_token)
        population = SyntheticPopulation(seed=secrets.randbits(32))
        signal = population.signal(population.household(), Sector.POLICE)
        signals_file.write_text(json.dumps(signal) + "\n")
        published = run_radar(
            ingest.settings,
            *("publish", str(signals_file), "--url", ingest.url, "--token-file", str(token_file)),
            *("--client-cert", str(ingest.police.cert), "--client-key", str(ingest.police.key)),
            *("--ca-cert", str(ingest.ca.cert)),
        )
        assert (published.returncode, published.stdout) == (0, "1 accepted\n"), published.stderr
        assert ingest.publish(ingest.school, school_token, Sector.EDUCATION).status_code == 202
        assert kafka.count() == 3

        # the police's token on the school's connection: a stolen token is of no use
        stolen = ingest.publish(ingest.school, police_token)
        assert (stolen.status_code, stolen.json()["detail"]) == (401, NOT_BOUND)
        assert stolen.headers["WWW-Authenticate"] == "Bearer"

        # a valid token bound to no certificate is refused too
        unbound = TokenAuthority(ingest.settings.keys_dir).issue(
            Publisher(f"sys-{POLICE}", POLICE, Sector.POLICE), Audience.INGEST, timedelta(hours=1)
        )
        refused = ingest.publish(ingest.police, unbound)
        assert (refused.status_code, refused.json()["detail"]) == (401, NOT_BOUND)
        assert kafka.count() == 3, "a refused token published a signal"
    finally:
        kafka.close()


def test_no_certificate_or_one_from_another_ca_is_refused_in_the_handshake(
    ingest: MutualTlsIngest, topic: str, tmp_path: Path
) -> None:
    kafka = TopicProbe(topic)
    impostor_ca = LocalCa(tmp_path / "other-pki", "someone-else")
    impostor = impostor_ca.client(POLICE)  # the police's name, from a CA the radar does not trust
    token = _bound_token(ingest.settings, POLICE, "police", impostor.cert)
    try:
        for presented, why in [(None, "no client certificate"), (impostor, "another CA")]:
            # TLS 1.2: the handshake itself fails (connecting, before any request)
            with (
                pytest.raises(httpx.ConnectError),
                ingest.client(presented, ssl.TLSVersion.TLSv1_2) as client,
            ):
                client.get("/health/live")
            # TLS 1.3: the client's handshake ends before the server checks; the server's
            # alert ends the connection and no request is answered
            with pytest.raises(httpx.TransportError), ingest.client(presented) as client:
                answer = client.post("/v1/signals", json={}, headers={"Authorization": token})
                raise AssertionError(f"{why}: answered {answer.status_code}")
        assert kafka.count() == 0
        for newest in (ssl.TLSVersion.TLSv1_2, None):  # the radar's CA's certificates get in
            with ingest.client(ingest.police, newest) as client:
                assert client.get("/health/live").status_code == 200
    finally:
        kafka.close()
