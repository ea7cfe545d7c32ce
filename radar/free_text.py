"""Free text analysts type (reasons, notes, conditions): checked before it becomes an event."""

from __future__ import annotations

from contracts.leak_guard import identifier_kinds

MAX_NOTE_LENGTH = 2000


class FreeTextError(ValueError):
    """Text that cannot be recorded: empty, too long, or holding an identifier."""


def checked_text(text: str, what: str, max_length: int = MAX_NOTE_LENGTH) -> str:
    """The text stripped; refused when empty, too long or holding what looks like an identifier
    (a BSN, address, date of birth, e-mail address or phone number), which must never reach
    the event store."""
    cleaned = text.strip()
    if not cleaned:
        raise FreeTextError(f"{what} must not be empty")
    if len(cleaned) > max_length:
        raise FreeTextError(f"{what} is longer than {max_length} characters")
    kinds = identifier_kinds(cleaned)
    if kinds:
        raise FreeTextError(
            f"{what} must not contain a BSN or address or any other identifier "
            f"(it holds what looks like {' and '.join(kinds)})"
        )
    return cleaned
