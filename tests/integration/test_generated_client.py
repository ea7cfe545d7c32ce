"""A publisher generates a client from the ingest API's OpenAPI document and publishes through
it: one signal with plain identifiers, one with sealed identifiers, a batch, and a correction,
to the real ingest app (served over HTTP) on the real broker and databases.

The client is made by `openapi-python-client` (the field's usual generator) from the document
the app serves, offline, into the test's folder; the test only uses what it generated. What
arrives on the topic is read back, and a bad signal's 422 reaches the client as a typed error
naming the field, never the value.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from kafka.admin import KafkaAdminClient

from contracts.correction_v1 import SignalCorrectionV1
from contracts.signal_v1 import SignalEventV1
from privacy.credentials import Audience, TokenAuthority
from privacy.sealed_identifiers import PublishedKey, SealingContext, seal
from privacy.sealed_submission import ADDRESS_FIELD, bsn_field
from services import bootstrap
from services.http import VERSIONED_OPENAPI
from services.settings import Settings
from services.signals.publisher import CORRECTION_SCHEMA_HEADER
from services.signals.schemas import INVALID_BSN
from testkit.processes import free_port
from tests.support.ingest import HOUR, POLICE, TopicProbe, police_signals

# The generator has a venv of its own (it pins typer below the radar's): the Makefile makes it.
DEFAULT_GENERATOR = (
    Path(__file__).resolve().parents[2] / ".local/tools/openapi-python-client/bin"
) / "openapi-python-client"

pytestmark = pytest.mark.integration

PACKAGE = "radar_ingest_client"
INVALID_BSN_VALUE = "123456789"  # nine digits, fails the elfproef


class Generated:
    """The generated client package and the document it was generated from."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def module(self, name: str) -> ModuleType:
        return importlib.import_module(f"{PACKAGE}.{name}")

    def __getattr__(self, name: str) -> Any:  # models by name, as a publisher imports them
        return getattr(self.module("models"), name)


def _served_document(tmp: Path) -> dict[str, Any]:
    """The OpenAPI document the ingest app serves (it does not depend on the database)."""
    app = bootstrap.ingest_app(Settings(data_dir=tmp / "data"))
    answer = TestClient(app).get(VERSIONED_OPENAPI)  # no lifespan: nothing is connected
    assert answer.status_code == 200, answer.text
    document: dict[str, Any] = answer.json()
    return document


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    """Generates the client once for the module, offline, from the served document."""
    folder = tmp_path_factory.mktemp("generated-client")
    document = _served_document(folder)
    spec = folder / "openapi-ingest.json"
    spec.write_text(json.dumps(document), encoding="utf-8")
    config = folder / "config.json"
    config.write_text(json.dumps({"package_name_override": PACKAGE, "post_hooks": []}))
    generator = Path(os.environ.get("RADAR_OPENAPI_CLIENT_GENERATOR", DEFAULT_GENERATOR))
    assert generator.exists(), f"no client generator at {generator}: `make test` installs it"
    run = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(spec),
            "--config",
            str(config),
            "--meta",
            "none",
            "--output-path",
            str(folder / PACKAGE),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, f"generation failed:\n{run.stdout}\n{run.stderr}"
    sys.path.insert(0, str(folder))
    try:
        yield Generated(document)
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@contextmanager
def _serving(app: Any) -> Iterator[str]:
    """The app served by uvicorn on a local port in a thread, as a publisher reaches it."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the ingest API did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture
def kafka(topic: str, kafka_admin: KafkaAdminClient) -> Iterator[TopicProbe]:
    """The test's topic read back; the topic is removed when the test ends."""
    probe = TopicProbe(topic)
    yield probe
    probe.close()
    kafka_admin.delete_topics([topic])


def _call(generated: Generated, operation: str, **arguments: Any) -> Any:
    """One generated operation's detailed answer (status, parsed body, raw content)."""
    return generated.module(f"api.default.{operation}").sync_detailed(**arguments)


def _sealed_submission(generated: Generated, key: PublishedKey, signal: dict[str, Any]) -> Any:
    """A signal with its BSNs and address sealed to the radar's key, built from the generated
    models the way a publisher's code would."""
    event_id = str(uuid.uuid4())

    def sealed(plaintext: str, field: str) -> Any:
        value = seal(plaintext, key, SealingContext(event_id, field))
        return generated.SealedValue.from_dict(value.model_dump())

    address = json.dumps(signal["household"], separators=(",", ":"))
    return generated.SignalSubmission(
        event_id=uuid.UUID(event_id),
        signal_type=generated.SignalType(signal["signal_type"]),
        severity=generated.Severity(signal["severity"]),
        occurred_at=datetime.now(UTC) - timedelta(days=2),
        region=generated.VtRegion(signal["region"]),
        household=generated.HouseholdSubmission(sealed_address=sealed(address, ADDRESS_FIELD)),
        persons=[
            generated.PersonSubmission(
                role=generated.PersonRole(person["role"]),
                sealed_bsn=sealed(person["bsn"], bsn_field(index)),
            )
            for index, person in enumerate(signal["persons"])
        ],
    )


# the client meets the HTTP contract; the database behind it is covered elsewhere
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_generated_client_publishes_signals_a_batch_and_a_correction(
    settings: Settings, kafka: TopicProbe, generated: Generated
) -> None:
    token = TokenAuthority(settings.keys_dir).issue(POLICE, Audience.INGEST, HOUR)
    plain, for_sealing, *batch, bad = police_signals(6, seed=23)
    bad["persons"][0]["bsn"] = INVALID_BSN_VALUE

    with _serving(bootstrap.ingest_app(settings)) as base_url:
        assert httpx.get(f"{base_url}{VERSIONED_OPENAPI}").json() == generated.document
        client = generated.module("client").AuthenticatedClient(base_url=base_url, token=token)
        with client:
            one = _call(
                generated,
                "submit_signal",
                client=client,
                body=generated.SignalSubmission.from_dict(plain),
            )
            key = _call(generated, "identifier_key", client=client).parsed
            sealed_body = _sealed_submission(
                generated, PublishedKey.model_validate(key.to_dict()), for_sealing
            )
            sealed = _call(generated, "submit_signal", client=client, body=sealed_body)
            many = _call(
                generated,
                "submit_batch",
                client=client,
                body=generated.BatchSubmission(
                    signals=[generated.SignalSubmission.from_dict(s) for s in [*batch, bad]]
                ),
            )
            refused = _call(
                generated,
                "submit_signal",
                client=client,
                body=generated.SignalSubmission.from_dict(bad),
            )
            correction_id = uuid.uuid4()
            corrected = _call(
                generated,
                "correct_signal",
                event_id=uuid.UUID(plain["event_id"]),
                client=client,
                body=generated.CorrectionSubmission(
                    correction_id=correction_id,
                    reason="severity was entered wrongly",
                    severity=generated.Severity("low"),
                ),
            )

    assert (one.status_code, one.parsed.status.value) == (202, "accepted"), one.content
    assert str(one.parsed.event_id) == plain["event_id"]
    assert (sealed.status_code, sealed.parsed.status.value) == (202, "accepted"), sealed.content
    assert many.status_code == 200, many.content
    assert (many.parsed.accepted, many.parsed.rejected) == (len(batch), 1)
    (rejected,) = [r for r in many.parsed.results if r.status.value == "rejected"]
    assert [(e.field, e.reason) for e in rejected.errors] == [("persons.0.bsn", INVALID_BSN)]

    assert refused.status_code == 422, refused.content
    assert type(refused.parsed).__module__.startswith(f"{PACKAGE}.models"), refused.parsed
    assert [(e.field, e.reason) for e in refused.parsed.errors] == [("persons.0.bsn", INVALID_BSN)]
    assert INVALID_BSN_VALUE.encode() not in refused.content + many.content

    assert corrected.status_code == 202, corrected.content
    assert corrected.parsed.correction_id == correction_id
    assert corrected.parsed.kind.value == "correction"

    records = kafka.records()
    corrections = [r for r in records if CORRECTION_SCHEMA_HEADER in r.headers]
    events = [SignalEventV1.model_validate_json(r.value) for r in records if r not in corrections]
    published = [plain["event_id"], str(sealed_body.event_id), *(s["event_id"] for s in batch)]
    assert sorted(str(e.event_id) for e in events) == sorted(published)
    (correction,) = [SignalCorrectionV1.model_validate_json(r.value) for r in corrections]
    assert (str(correction.corrects), correction.correction_id) == (
        plain["event_id"],
        correction_id,
    )
    assert correction.values is not None and correction.values.severity == "low"
