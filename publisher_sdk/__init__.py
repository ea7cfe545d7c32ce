"""publisher_sdk."""
