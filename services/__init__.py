"""The radar's processes: ingest API, aggregator, projector, query API and the `radar` CLI.

Thin wiring: they connect the rooms (contracts, privacy, radar) to HTTP, Kafka and SQL.
"""
