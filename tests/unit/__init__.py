"""Fast tests of pure code: no broker, no PostgreSQL, no SQLite store, no subprocesses."""
