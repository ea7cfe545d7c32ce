"""The radar's domain: households and the signals seen about them, as event-sourced aggregates,
and the pure logic of the projections built from them. No HTTP, Kafka or SQL in here."""
