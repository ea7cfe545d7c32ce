"""Error answers as RFC 9457 problem details (`application/problem+json`), as the Dutch REST API
Design Rules' error module asks: one shape for every 4xx/5xx of every API, whoever answers it
(a route, the request limits, the framework's own 404/405, an unhandled error)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, create_model
from starlette.types import Scope

from services.errors import FieldError

PROBLEM_JSON = "application/problem+json"
API_VERSION_HEADER = "API-Version"
"""The response header naming the full version of the API's contract (design rule API-57)."""


class Problem(BaseModel):
    """The body of every 4xx/5xx answer. `type` is always "about:blank": each refusal kind
    has its own status code, so the status says all a client may branch on."""

    type: str = Field(
        default="about:blank", description="about:blank: the status code is the problem type"
    )
    title: str = Field(description="The HTTP status phrase, e.g. 'Not Found'")
    status: int = Field(description="The HTTP status code of this answer")
    detail: str = Field(description="Why, in words a person can read")
    instance: str = Field(description="The request's path (never its query string)")
    errors: list[FieldError] = Field(
        default=[], description="Extension: which fields were wrong and why (values never echoed)"
    )


class ProblemResponse(JSONResponse):
    """A JSON answer labelled as problem details."""

    media_type = PROBLEM_JSON


@cache
def with_problem(model: type[BaseModel]) -> type[BaseModel]:
    """The schema of a problem whose extension members are a model's fields (a batch's
    per-signal results on a 503): for the OpenAPI document only; one class per model, so
    the document names it once."""
    doc = f"Problem details whose extension members are a {model.__name__}'s fields."
    return create_model(f"{model.__name__}Problem", __base__=(Problem, model), __doc__=doc)


def instance_of(scope: Scope) -> str:
    """The request as a problem's `instance`: its path, percent-encoded as a URI reference.
    Never the query string: a query may carry pseudonyms a client should not see echoed in
    places errors end up (a proxy's log, a ticket)."""
    return quote(scope.get("path") or "/")


def problem_response(
    scope: Scope,
    status: int,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> ProblemResponse:
    """The problem-details answer to the request of `scope`; extension members (e.g. a
    readiness probe's components) go beside the standard ones, never over them."""
    problem = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance_of(scope),
        errors=list(errors),
    )
    body = {**(extensions or {}), **problem.model_dump(mode="json")}
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def declare_problems(document: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI document in which every 4xx/5xx response is declared as
    application/problem+json (FastAPI puts a response's model under application/json) and
    every response declares the API-Version header."""
    version = {
        "description": "The full version of this API's contract (semver)",
        "schema": {"type": "string", "example": document.get("info", {}).get("version")},
    }
    document.setdefault("components", {}).setdefault("headers", {})[API_VERSION_HEADER] = version
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status[0] in "45" and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
                reference = {"$ref": f"#/components/headers/{API_VERSION_HEADER}"}
                response.setdefault("headers", {})[API_VERSION_HEADER] = reference
    return document
