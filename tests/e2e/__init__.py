"""End-to-end tests: radar processes started for real (testkit), driven over HTTP."""
