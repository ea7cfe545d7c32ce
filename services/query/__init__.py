"""The query API: analysts read household timelines for a declared purpose."""
