"""The radar's own tables under Alembic: one registry of them, the migrations, the check every
process makes before it touches data, and `radar db`."""
