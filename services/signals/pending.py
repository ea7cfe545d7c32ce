"""A signal of a request that passed validation, on its way to the vault, Kafka and a receipt:
its event, dumped to JSON once for both the record and the receipt's fingerprint."""

from __future__ import annotations

from typing import Any

import orjson

from privacy.storage.vault import Identity
from privacy.storage.vault_deposit import AnyLink
from services.signals.publisher import SignalEvent
from services.signals.store import ReceiptBook


class Pending:
    """A signal that passed validation, with its place in the request and its identifiers
    (which go to the identity vault and nowhere else)."""

    def __init__(
        self,
        receipts: ReceiptBook,
        index: int,
        event: SignalEvent,
        reported_by_publisher: bool,
        identity: Identity,
    ) -> None:
        self.receipts = receipts
        self.index = index
        self._event = event
        self.reported_by_publisher = reported_by_publisher
        self.identity = identity
        self._json: dict[str, Any] | None = None
        self._fingerprint: str | None = None

    @property
    def event(self) -> SignalEvent:
        return self._event

    def known_as(self, known_as: tuple[AnyLink, ...]) -> None:
        """The household as the radar first knew it; a copy of the event only if it changes
        (most households are known under the current key: no copy)."""
        if known_as != self._event.known_as:
            self._event = self._event.model_copy(update={"known_as": known_as})
            self._json = None
            self._fingerprint = None

    def value(self) -> bytes:
        """The record's value: the same bytes as `publisher.serialise(event)` (pydantic's JSON
        is orjson's of the JSON form), from the form the fingerprint is hashed over too: the
        event is dumped once, not once for Kafka and once for the receipt."""
        return orjson.dumps(self._json_form())

    def fingerprint(self) -> str:
        """What the publisher said, under the pseudonyms the radar first knew (so a signal
        re-sent after a key rotation is still recognised as the same signal); computed once
        per event."""
        if self._fingerprint is None:
            canonical = self._event.canonical()
            content = (
                self._json_form()
                if canonical is self._event  # no key rotation in between: most signals
                else canonical.model_dump(mode="json")
            )
            self._fingerprint = self.receipts.fingerprint(content, self.reported_by_publisher)
        return self._fingerprint

    def _json_form(self) -> dict[str, Any]:
        if self._json is None:
            self._json = self._event.model_dump(mode="json")
        return self._json
