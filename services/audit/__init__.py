"""Audit: point-in-time replay, integrity of the event store and access log, access compliance."""
