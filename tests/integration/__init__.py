"""In-process tests against the real Kafka broker and real databases (SQLite and PostgreSQL)."""
