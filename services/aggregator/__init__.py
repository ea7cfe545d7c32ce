"""The aggregator: a Kafka consumer-group member that records signals in the event store."""
