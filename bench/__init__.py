"""`make bench`: throughput, latency, freshness and memory of the radar, each measured against a
raw baseline (Kafka producer, plain INSERT, plain SELECT, static GET) in the same run on the
same synthetic data. Every figure that matters is a ratio, because the machine is noisy."""
