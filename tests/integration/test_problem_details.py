"""Both APIs as a client of the Dutch REST API Design Rules meets them, in-process on the real
broker and databases: every error is RFC 9457 problem details (application/problem+json) with
the field errors as the extension member `errors`, every answer names the contract's version in
API-Version, and the OpenAPI document is served at /openapi.json and /v1/openapi.json alike."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from privacy.credentials import TokenAuthority
from services import bootstrap
from services.http import API_VERSION
from services.settings import Settings
from tests.support.ingest import (
    TopicProbe,
    assert_nothing_changed,
    ingest_client,
    json_post,
    police_signals,
    police_token,
)
from tests.support.inspection import PROBLEM_MEMBERS

pytestmark = pytest.mark.integration

INVALID_BSN = "123456789"  # nine digits, fails the elfproef
PSEUDONYM = "hh.k1." + "f" * 32  # synthetic


def assert_problem(answer: httpx.Response, status: int, path: str) -> dict[str, Any]:
    """The answer is problem details for `status` about `path`, naming the API's version."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json", answer.headers
    assert answer.headers["API-Version"] == API_VERSION, answer.headers
    body: dict[str, Any] = answer.json()
    assert set(body) >= PROBLEM_MEMBERS, body
    assert body["type"] == "about:blank", body
    assert body["status"] == status, body
    assert body["title"] and body["detail"], body
    assert body["instance"] == path, body
    assert all(error["field"] is not None and error["reason"] for error in body["errors"]), body
    return body


def test_a_refused_signal_is_a_problem_naming_the_field(
    settings: Settings, kafka: TopicProbe
) -> None:
    (signal,) = police_signals(1)
    bad_bsn = dict(signal, persons=[{"bsn": INVALID_BSN, "role": "child"}])
    headers = police_token(TokenAuthority(settings.keys_dir))
    with ingest_client(settings) as client:
        answer = client.post("/v1/signals", json=bad_bsn, headers=headers)
        body = assert_problem(answer, 422, "/v1/signals")
        assert [error["field"] for error in body["errors"]] == ["persons.0.bsn"]
        assert INVALID_BSN not in answer.text
        assert_nothing_changed(kafka, settings, "an invalid BSN")

        accepted = client.post("/v1/signals", json=signal, headers=headers)
    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["content-type"] == "application/json"
    assert accepted.headers["API-Version"] == API_VERSION


def test_the_request_limits_answer_problems_before_the_api(
    settings: Settings, kafka: TopicProbe
) -> None:
    headers = police_token(TokenAuthority(settings.keys_dir))
    too_large = b'{"padding": "' + b"x" * (settings.max_body_bytes + 1) + b'"}'
    with ingest_client(settings) as client:
        large = json_post(client, "/v1/signals", too_large, headers)
        malformed = json_post(client, "/v1/signals/batch", b'{"signals": [', headers)
        plain = client.post(
            "/v1/signals", content=b"{}", headers={**headers, "Content-Type": "text/plain"}
        )
    assert "larger than" in assert_problem(large, 413, "/v1/signals")["detail"]
    [error] = assert_problem(malformed, 422, "/v1/signals/batch")["errors"]
    assert error["field"] == "body" and "not valid JSON" in error["reason"]
    assert "application/json" in assert_problem(plain, 415, "/v1/signals")["detail"]
    assert_nothing_changed(kafka, settings, "bodies the limits refused")


def test_an_organisation_over_its_rate_limit_gets_a_429_problem(
    settings: Settings, kafka: TopicProbe
) -> None:
    limited = settings.model_copy(
        update={"ingest_rate_per_organisation": 0.001, "ingest_burst_per_organisation": 1}
    )
    first, second = police_signals(2, seed=23)
    headers = police_token(TokenAuthority(settings.keys_dir))
    with ingest_client(limited) as client:
        assert client.post("/v1/signals", json=first, headers=headers).status_code == 202
        over = client.post("/v1/signals", json=second, headers=headers)
    assert "rate limit" in assert_problem(over, 429, "/v1/signals")["detail"]
    assert int(over.headers["Retry-After"]) >= 1
    assert kafka.count() == 1


def test_a_batch_kafka_did_not_take_is_a_problem_that_still_says_which_signals(
    settings: Settings, kafka: TopicProbe
) -> None:
    """The 503 keeps the BatchResult's members (the SDK resends by `results`)."""
    (signal,) = police_signals(1)
    missing = settings.model_copy(
        update={"signals_topic": f"{settings.signals_topic}.missing", "kafka_timeout_seconds": 2.0}
    )
    with ingest_client(missing) as client:
        batch = client.post(
            "/v1/signals/batch",
            json={"signals": [signal]},
            headers=police_token(TokenAuthority(settings.keys_dir)),
        )
        ready = client.get("/health/ready")
    body = assert_problem(batch, 503, "/v1/signals/batch")
    assert batch.headers["Retry-After"]
    assert [r["status"] for r in body["results"]] == ["unavailable"] and body["unavailable"] == 1
    assert assert_problem(ready, 503, "/health/ready")["kafka"] == "down"
    assert_nothing_changed(kafka, settings, "an unacknowledged batch")


def test_an_unauthenticated_query_is_a_problem_with_a_bearer_challenge(
    settings: Settings,
) -> None:
    with TestClient(bootstrap.query_app(settings)) as client:
        answer = client.get("/v1/worklist", params={"purpose": "triage"})
    body = assert_problem(answer, 401, "/v1/worklist")
    assert body["detail"] == "missing bearer token" and body["errors"] == []
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_unknown_paths_and_methods_are_problems_and_no_query_string_is_echoed(
    settings: Settings,
) -> None:
    with TestClient(bootstrap.query_app(settings)) as client:
        unknown = client.get("/v1/nothing-here", params={"household": PSEUDONYM})
        slash = client.get("/v1/worklist/", params={"purpose": "triage"}, follow_redirects=False)
        method = client.delete("/v1/worklist")
    assert "no such path" in assert_problem(unknown, 404, "/v1/nothing-here")["detail"]
    assert PSEUDONYM not in unknown.text
    assert_problem(slash, 404, "/v1/worklist/")  # API-48: a 404, never a redirect
    assert_problem(method, 405, "/v1/worklist")
    assert method.headers["Allow"] == "GET"


@pytest.mark.parametrize("api", ["ingest", "query"])
def test_the_openapi_document_is_at_the_versioned_path_too_and_declares_problems(
    settings: Settings, api: str
) -> None:
    app = bootstrap.ingest_app(settings) if api == "ingest" else bootstrap.query_app(settings)
    with TestClient(app) as client:
        versioned = client.get("/v1/openapi.json")
        default = client.get("/openapi.json")
        live = client.get("/health/live")
    assert versioned.status_code == default.status_code == 200, versioned.text
    assert versioned.json() == default.json()
    assert versioned.headers["API-Version"] == live.headers["API-Version"] == API_VERSION
    document = versioned.json()
    assert document["openapi"].startswith("3.") and document["info"]["version"] == API_VERSION
    errors = [
        response
        for operations in document["paths"].values()
        for operation in operations.values()
        for status, response in operation["responses"].items()
        if status[0] in "45"
    ]
    assert errors and all(list(e["content"]) == ["application/problem+json"] for e in errors)
    assert all("API-Version" in e["headers"] for e in errors)
