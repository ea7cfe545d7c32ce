"""The ingest API: publishers' signals in, pseudonymised events onto Kafka."""
