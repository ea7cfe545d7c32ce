"""The radar's yardstick (issue 23): a synthetic world driven through the real pipeline
(ingest, Kafka, the aggregator, the worklist), measured per risk-model version."""
