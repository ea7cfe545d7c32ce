"""Administration: credentials and keys."""
