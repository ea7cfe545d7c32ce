"""What the radar's registers (purposes, external recipients) share: a version number, and a
canonical form whose fingerprint the access log records, so an auditor can tell which exact
content was in force."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import orjson
from pydantic import BaseModel, ConfigDict, Field


def sorted_strings(values: Iterable[object]) -> list[str]:
    """A set as a sorted list: the same bytes in every process (set order is not)."""
    return sorted(str(value) for value in values)


class VersionedRegister(BaseModel):
    """A register file, validated as a whole when loaded; every change gets a new version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)

    def canonical_json(self) -> bytes:
        """The register as canonical JSON: what is recorded when a version is adopted."""
        # Only fields added later carry defaults (restricted_access); leaving them out at their
        # default keeps the fingerprint of a register adopted before they existed.
        dump = self.model_dump(mode="json", exclude_defaults=True)
        return orjson.dumps(dump, option=orjson.OPT_SORT_KEYS)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.canonical_json()).hexdigest()
