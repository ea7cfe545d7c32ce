"""What the radar's registers (purposes, external recipients, the retention policy) share: a
loader that refuses a malformed file in one line naming the file and the field, a version
number, and a canonical form whose fingerprint the access log records, so an auditor can tell
which exact content was in force."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

M = TypeVar("M", bound=BaseModel)


class MalformedFileError(ValueError):
    """A register or policy file that cannot be read or does not validate: one line naming the
    file and the field (never the field's value), for the command or service to print."""


def load_toml(model: type[M], path: Path, what: str) -> M:
    """Reads a TOML file and validates it as `model`; MalformedFileError says what is wrong."""
    try:
        with path.open("rb") as handle:
            content = tomllib.load(handle)
    except OSError as error:
        raise MalformedFileError(f"{what} {path}: cannot be read ({error.strerror})") from None
    except tomllib.TOMLDecodeError as error:
        raise MalformedFileError(f"{what} {path}: not valid TOML ({error})") from None
    try:
        return model.model_validate(content)
    except ValidationError as error:
        raise MalformedFileError(f"{what} {path}: {_problems(error)}") from None


def _problems(error: ValidationError) -> str:
    """Each problem as `field: reason`, on one line; the input value is left out."""
    problems = []
    for problem in error.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in problem["loc"]) or "(the whole file)"
        problems.append(f"{field}: {problem['msg']}")
    return "; ".join(problems)


def sorted_strings(values: Iterable[object]) -> list[str]:
    """A set as a sorted list: the same bytes in every process (set order is not)."""
    return sorted(str(value) for value in values)


class VersionedRegister(BaseModel):
    """A register file, validated as a whole when loaded; every change gets a new version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)

    def canonical_json(self) -> bytes:
        """The register as canonical JSON: what is recorded when a version is adopted."""
        # Only fields added later carry defaults (restricted_access, hidden_forms, sectors);
        # leaving them out keeps the fingerprint of a register adopted before they existed.
        # Left out when unset as well as at their default: pydantic compares a field that has
        # a serializer by its serialized value (a sorted list) with its default (an empty
        # frozenset), so `exclude_defaults` alone keeps an empty set in the dump.
        dump = self.model_dump(mode="json", exclude_defaults=True, exclude_unset=True)
        return orjson.dumps(dump, option=orjson.OPT_SORT_KEYS)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.canonical_json()).hexdigest()
