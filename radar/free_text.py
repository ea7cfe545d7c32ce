"""Free text analysts type (reasons, notes, conditions): checked before it becomes an event."""

from __future__ import annotations

from privacy.leak_guard import contains_identifier

MAX_NOTE_LENGTH = 2000


class FreeTextError(ValueError):
    """Text that cannot be recorded: empty, too long, or holding an identifier."""


def checked_text(text: str, what: str, max_length: int = MAX_NOTE_LENGTH) -> str:
    """The text stripped; refused when empty, too long or holding a BSN or an address, which
    must never reach the event store."""
    cleaned = text.strip()
    if not cleaned:
        raise FreeTextError(f"{what} must not be empty")
    if len(cleaned) > max_length:
        raise FreeTextError(f"{what} is longer than {max_length} characters")
    if contains_identifier(cleaned):
        raise FreeTextError(f"{what} must not contain a BSN or address")
    return cleaned
