"""What the e2e tests, the chaos suite and the benchmarks share, and production never imports:
the one process runner (`processes`: RADAR_* environments, free ports, `RadarProcess`,
readiness, `running_radar`), synthetic households and signals (`synthetic`) and where the real
broker and database server are (`services`)."""
