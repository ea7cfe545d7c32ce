"""An error no route foresaw still answers as the APIs promise: a 500 in problem details that
names the contract's version and says nothing of the cause (which may hold a pseudonym)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.http import new_api

SECRET = "hh.k1." + "e" * 32  # synthetic


def test_an_unhandled_error_is_a_500_problem_without_its_cause() -> None:
    app = new_api("crashing API", max_body_bytes=1024, version="2.3.4")

    @app.get("/v2/crash")
    def crash() -> None:
        raise RuntimeError(f"bug while reading {SECRET}")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/v2/crash", params={"household": SECRET})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["API-Version"] == "2.3.4"
    assert answer.json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "internal error",
        "instance": "/v2/crash",
        "errors": [],
    }
    assert SECRET not in answer.text
