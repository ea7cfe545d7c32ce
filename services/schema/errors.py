"""The schema's refusals, importable without Alembic or any slice (the CLI root catches them)."""

from __future__ import annotations


class SchemaMismatchError(RuntimeError):
    """The database's schema is not this radar's; the message says what to run."""


class EmptyDatabaseError(Exception):
    """The database holds none of the radar's tables yet: it is made under the schema lock."""
