"""The publisher SDK: the client an organisation (police, a GP's system, a school) uses to send
signals to the radar's ingest API, in batches, with retries that never send a signal twice and a
result per signal (`PublishResult`: accepted, duplicate, rejected or failed).

It is the radar's only code that runs at the publisher, so it depends on what publishers and the
radar agree on and on the privacy rules that seal identifiers before they leave the process:
of ours it imports `contracts` and `privacy` only, never `radar`, `services`, `testkit` or
`tests` (an import-linter contract in pyproject.toml, checked by `make lint`).
"""

from publisher_sdk.client import PublisherClient, PublishResult, RetryPolicy, mutual_tls_context

__all__ = ["PublishResult", "PublisherClient", "RetryPolicy", "mutual_tls_context"]
