"""The purpose register: which purposes exist, their legal basis and the roles that may use them."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from privacy.actors import AnalystRole

DEFAULT_REGISTER = Path(__file__).with_name("purposes.toml")


class Purpose(BaseModel):
    """One purpose a query may be made for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)
    roles: frozenset[AnalystRole] = Field(min_length=1)


class PurposeRegister(BaseModel):
    """A version of the purpose register, validated as a whole when loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    purposes: dict[str, Purpose] = Field(min_length=1)

    @classmethod
    def load(cls, path: Path = DEFAULT_REGISTER) -> PurposeRegister:
        """Reads and validates a register file; a malformed file stops the service at start."""
        with path.open("rb") as handle:
            return cls.model_validate(tomllib.load(handle))
