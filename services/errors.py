"""Why a use case refused, in words that know nothing of HTTP: a kind, a reason a person can
read, and the fields at fault. The HTTP edge (services/http.py) maps each kind to a status code
in one place; a CLI or a consumer can say the same refusal its own way."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel


class FieldError(BaseModel):
    """Which field was wrong and why; the offending value is never echoed back."""

    field: str
    reason: str


class RefusalKind(StrEnum):
    """What kind of no it is: the caller decides what to do by the kind, never by the text."""

    INVALID = "invalid"  # the request itself is wrong: which field and why
    UNAUTHENTICATED = "unauthenticated"  # no valid credential
    FORBIDDEN = "forbidden"  # authenticated, not allowed
    NOT_FOUND = "not_found"  # no such thing
    CONFLICT = "conflict"  # contradicts what was recorded before
    TOO_LARGE = "too_large"  # over a size limit
    UNAVAILABLE = "unavailable"  # a backing service is down: nothing was stored, try again
    TOO_MANY_REQUESTS = "too_many_requests"  # over a rate limit: nothing was stored, try later


class Refusal(Exception):  # noqa: N818  (a refusal is an answer, not a fault of the program)
    """A use case's refusal; nothing was changed by the request it refuses."""

    def __init__(
        self,
        kind: RefusalKind,
        reason: str,
        errors: Sequence[FieldError] = (),
        retry_after_seconds: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason
        self.errors = list(errors)
        self.retry_after_seconds = retry_after_seconds

    def described(self) -> str:
        """The reason with the fields at fault, as the access log records a refusal."""
        details = "; ".join(f"{e.field}: {e.reason}" for e in self.errors)
        return f"{self.reason} ({details})" if details else self.reason


INVALID_REQUEST = "request is not valid"


def invalid(errors: Sequence[FieldError], reason: str = INVALID_REQUEST) -> Refusal:
    """The refusal of a request whose fields are wrong."""
    return Refusal(RefusalKind.INVALID, reason, errors)


def invalid_field(field: str, reason: str) -> Refusal:
    """The refusal of a request with one wrong field."""
    return invalid([FieldError(field=field, reason=reason)])


class _HasErrors(Protocol):
    def errors(self) -> Sequence[Any]: ...


def field_errors(error: _HasErrors, prefix: str = "") -> list[FieldError]:
    """Validation errors (pydantic's, or FastAPI's request validation) as (field, reason)
    pairs, dropping the submitted values."""
    found = []
    for item in error.errors():
        location = [str(part) for part in item["loc"] if part != "body"]
        name = ".".join(location)
        found.append(
            FieldError(
                field=f"{prefix}{name}" if name else prefix.rstrip("."),
                reason=item["msg"].removeprefix("Value error, "),
            )
        )
    return found
