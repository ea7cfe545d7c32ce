"""Alembic's environment for the radar: always online, on the connection the caller opened
(services/schema/migrate.py), inside its transaction; the version table is the radar's own."""

from __future__ import annotations

from alembic import context

from services.schema.migrate import VERSION_TABLE
from services.schema.tables import project_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=project_metadata(),
    version_table=VERSION_TABLE,
    include_name=lambda name, kind, _parent: kind != "table" or name != VERSION_TABLE,
)
with context.begin_transaction():
    context.run_migrations()
