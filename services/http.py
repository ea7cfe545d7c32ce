"""What both HTTP APIs share: error answers as problem details that name the field and reason,
the API-Version header, request size and content-type limits, the OpenAPI document at a fixed
path, and bearer-token authentication."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any, TypeVar

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from privacy.actors import Actor
from privacy.credentials import Audience, InvalidCredentialError, TokenAuthority, claimed_subject
from privacy.storage.access_log_refusals import AuthRefusal, AuthRefusalLog
from privacy.storage.revocations import RevocationsUnavailableError
from services.errors import (
    INVALID_REQUEST,
    FieldError,
    Refusal,
    RefusalKind,
    field_errors,
    invalid,
)
from services.logs import RequestLines
from services.problems import (
    API_VERSION_HEADER,
    Problem,
    ProblemResponse,
    declare_problems,
    problem_response,
    with_problem,
)
from services.tls import client_certificate

ActorT = TypeVar("ActorT", bound=Actor)
_log = structlog.get_logger("radar.auth")
RETRY_AFTER_SECONDS = 5
"""How long a client waits before trying again after a 503."""
API_VERSION = "1.3.0"  # 1.3: safety assessment, lead times, regie, effect monitor (additive)
"""The version of both APIs' contracts (semver: the path carries the major, /v1)."""
VERSIONED_OPENAPI = "/v1/openapi.json"
"""The OpenAPI document inside the versioned base path (design rule API-51), beside FastAPI's
/openapi.json."""


ErrorBody = Problem
"""The error body's name before problem details, kept for callers written against it."""

_ERROR_DESCRIPTIONS = {
    401: "No valid bearer token for this API (missing, malformed, expired, revoked, badly "
    "signed or for another audience)",
    403: "Authenticated, but not allowed: the reason says why",
    404: "No such resource",
    409: "Conflicts with what was recorded before",
    413: "Body larger than the size limit (or, for a batch, too many signals)",
    415: "Body is not application/json",
    422: "Request is not valid: which field and why (the value is never echoed)",
    429: "Your organisation's ingest rate limit is reached: the whole request was refused and "
    "nothing was stored; retry after Retry-After seconds",
    503: "A backing service is unavailable; nothing was stored; retry after Retry-After seconds",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for error answers, all problem details (the document
    declares them application/problem+json: `declare_problems`)."""
    return {
        status: {"model": Problem, "description": _ERROR_DESCRIPTIONS[status]}
        for status in statuses
    }


QUERY_ERRORS = error_responses(401, 403, 422, 503)
"""What any authenticated query may answer: no valid token, refused, not valid, a service down."""
BODY_ERRORS = error_responses(413, 415)
"""What a route with a JSON body may also answer."""
STEP_ERRORS = {**BODY_ERRORS, **error_responses(404, 409)}
"""What a step (a POST the domain may refuse: unknown id, out of order) may also answer."""


def endpoint(request: Request) -> str:
    """How the access log names what was asked: method and path (never the query string)."""
    return f"{request.method} {request.url.path}"


STATUS_OF: dict[RefusalKind, int] = {
    RefusalKind.INVALID: 422,
    RefusalKind.UNAUTHENTICATED: 401,
    RefusalKind.FORBIDDEN: 403,
    RefusalKind.NOT_FOUND: 404,
    RefusalKind.CONFLICT: 409,
    RefusalKind.TOO_LARGE: 413,
    RefusalKind.TOO_MANY_REQUESTS: 429,
    RefusalKind.UNAVAILABLE: 503,
}
"""The one mapping from a refusal's kind to its HTTP status."""


def refusal_response(refusal: Refusal, scope: Scope) -> ProblemResponse:
    """A refusal as the answer to the request of `scope`: its status, problem details, and the
    headers the kind calls for (a bearer challenge; when to try again)."""
    headers = {}
    if refusal.kind == RefusalKind.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = "Bearer"
    if refusal.retry_after_seconds is not None:
        headers["Retry-After"] = str(refusal.retry_after_seconds)
    status = STATUS_OF[refusal.kind]
    return problem_response(scope, status, refusal.reason, refusal.errors, headers)


_ROUTING_DETAILS = {
    404: "no such path in this API (paths end without a slash)",
    405: "this path does not take this method: the Allow header lists those it takes",
}
"""What the framework's own refusals of a path or method mean, said as the routes would."""


def install_error_handlers(app: FastAPI) -> None:
    """Makes every error answer problem details: refusals, invalid requests, the framework's
    own 404/405 (keeping its Allow header), and unhandled errors (a 500 that says nothing of
    the cause; the traceback goes to the server's log)."""

    @app.exception_handler(Refusal)
    async def _refused(request: Request, refusal: Refusal) -> ProblemResponse:
        return refusal_response(refusal, request.scope)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> ProblemResponse:
        return refusal_response(invalid(field_errors(error)), request.scope)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> ProblemResponse:
        status, detail = error.status_code, error.detail
        if detail == HTTPStatus(status).phrase:  # the router's own: say what it means
            detail = _ROUTING_DETAILS.get(status, detail)
        return problem_response(request.scope, status, detail, (), error.headers)

    @app.exception_handler(Exception)
    async def _crashed(request: Request, _error: Exception) -> ProblemResponse:
        # answered outside every middleware, so it names the version itself
        headers = {API_VERSION_HEADER: request.app.version}
        return problem_response(request.scope, 500, "internal error", (), headers)


class ApiVersion:
    """ASGI middleware: every answer, refusals of the request limits included, names the full
    version of the API's contract in the API-Version header (design rule API-57), so a client
    can log which contract answered it."""

    def __init__(self, app: ASGIApp, version: str) -> None:
        self.app = app
        self.version = version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                MutableHeaders(scope=message).setdefault(API_VERSION_HEADER, self.version)
            await send(message)

        await self.app(scope, receive, send_with_version)


FORM = "application/x-www-form-urlencoded"
PAGES_PREFIX = "/pages/"
"""The people's pages post HTML forms; every other POST of the APIs takes JSON."""


class RequestLimits:
    """ASGI middleware: 413 for bodies over the limit, 415 for non-JSON bodies (form bodies
    only on the pages), 422 for bodies that are not well-formed UTF-8 JSON (naming why),
    before any endpoint sees them."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"POST", "PUT", "PATCH"}:
            await self.app(scope, receive, send)
            return
        headers = {
            key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]
        }
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        form = content_type == FORM and str(scope["path"]).startswith(PAGES_PREFIX)
        if content_type != "application/json" and not form:
            await _reject(scope, send, 415, "body must be application/json")
            return
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await _reject(scope, send, 413, f"body larger than {self.max_body_bytes} bytes")
            return
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:
            await _reject(scope, send, 413, f"body larger than {self.max_body_bytes} bytes")
            return
        malformed = None if form else _malformed_json(body)
        if malformed is not None:
            error = FieldError(field="body", reason=malformed)
            await _reject(scope, send, 422, INVALID_REQUEST, [error])
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # after the body: wait for the disconnect
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None as soon as it grows past the limit (chunked bodies
    declare no length, so the limit is enforced while reading)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _malformed_json(body: bytes) -> str | None:
    """Why the body is not well-formed JSON in UTF-8 (RFC 8259), or None. The parser's own
    failures (invalid UTF-8, nesting deeper than the interpreter's recursion limit, numbers
    longer than Python converts) would otherwise surface as an unexplained 400."""
    if not body:
        return None  # the endpoint says which body it requires
    try:
        json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        return f"not valid UTF-8 (byte {error.start})"
    except RecursionError:
        return "JSON nested too deeply"
    except json.JSONDecodeError as error:
        return f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
    except ValueError:
        return "not valid JSON: a number has too many digits"
    return None


async def _reject(
    scope: Scope, send: Send, status: int, detail: str, errors: Sequence[FieldError] = ()
) -> None:
    """Answers before the app does: problem details, the request's body not read further."""
    response = problem_response(scope, status, detail, errors)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


_bearer = HTTPBearer(auto_error=False)


class DatabaseReadiness(BaseModel):
    """Whether the database answers."""

    database: str


def add_readiness(app: FastAPI, database_answers: Callable[[], bool]) -> None:
    """`GET /health/ready`: 200 while the database answers, 503 (problem details, with the
    same `database` member) when it does not."""

    @app.get(
        "/health/ready",
        response_model=DatabaseReadiness,
        responses={503: {"model": with_problem(DatabaseReadiness), "description": "Database down"}},
    )
    def ready(request: Request) -> JSONResponse:
        try:
            up = database_answers()
        except Exception:
            up = False
        if not up:
            down = {"database": "down"}
            return problem_response(request.scope, 503, "the database is down", extensions=down)
        return JSONResponse({"database": "up"}, status_code=200)


def new_api(title: str, max_body_bytes: int, version: str = API_VERSION) -> FastAPI:
    """A FastAPI app with the radar's problem details, API-Version header, request limits,
    OpenAPI document at /openapi.json and /v1/openapi.json, and liveness probe. A path with a
    trailing slash is a 404, not a redirect (design rule API-48)."""
    app = FastAPI(title=title, version=version, redirect_slashes=False)
    install_error_handlers(app)
    app.add_middleware(RequestLimits, max_body_bytes=max_body_bytes)
    app.add_middleware(ApiVersion, version=version)  # outside the limits: their 4xx name it too
    app.add_middleware(RequestLines)  # outermost: a refused body is a request line too
    app.openapi = lambda: declare_problems(FastAPI.openapi(app))  # type: ignore[method-assign]

    @app.get(VERSIONED_OPENAPI, include_in_schema=False)
    def versioned_openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/health/live")
    def live() -> dict[str, str]:
        return {"status": "live"}

    return app


def actor_dependency(
    authority: TokenAuthority,
    audience: Audience,
    kind: type[ActorT],
    refusal: str,
    refusals: AuthRefusalLog | None = None,
) -> Callable[..., ActorT]:
    """A FastAPI dependency giving the authenticated actor of one kind: 401 without a valid
    token for this audience, 403 (with the refusal) for another kind of actor. With `refusals`
    every 401 is an access-log entry (rate-limited): a probe with bad tokens leaves a trace."""

    def unauthenticated(request: Request, reason: str, token: str | None) -> Refusal:
        if refusals is not None:
            client = None if request.client is None else request.client.host
            claimed = None if token is None else claimed_subject(token)
            try:
                refusals.record(AuthRefusal(endpoint(request), reason, client, claimed))
            except SQLAlchemyError:  # nothing was read: refusing stays right, say what is missing
                _log.warning("auth refusal not in the access log: database unavailable")
        return Refusal(RefusalKind.UNAUTHENTICATED, reason)

    def authenticated(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
    ) -> ActorT:
        if credentials is None:
            raise unauthenticated(request, "missing bearer token", None)
        try:
            actor = authority.verify(
                credentials.credentials, audience, client_certificate(request.scope)
            )
        except InvalidCredentialError as error:
            raise unauthenticated(request, str(error), credentials.credentials) from error
        except RevocationsUnavailableError as error:
            raise Refusal(
                RefusalKind.UNAVAILABLE,
                "credentials cannot be checked now",
                retry_after_seconds=RETRY_AFTER_SECONDS,
            ) from error
        if not isinstance(actor, kind):
            raise Refusal(RefusalKind.FORBIDDEN, refusal)
        return actor

    return authenticated
