"""The last line of defence in logging: identifiers that slip into a log line are masked."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.bsn import passes_elfproef, synthetic_bsn
from services.logs import mask_identifiers  # type: ignore[attr-defined]

PROPERTY = settings(max_examples=50, deadline=None)
MASK = "[masked]"
VALID_BSN = synthetic_bsn(random.Random(2024))
INVALID_NINE_DIGITS = "123456789"
bsns = st.integers(min_value=0, max_value=2**32).map(lambda s: synthetic_bsn(random.Random(s)))
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,.:;=()'\"-_", max_size=30)


def test_fixtures_are_what_they_claim() -> None:
    assert passes_elfproef(VALID_BSN)
    assert not passes_elfproef(INVALID_NINE_DIGITS)


@pytest.mark.parametrize(
    "template",
    [
        "{bsn}",
        "bsn={bsn}",
        "person {bsn} not found",
        '{{"bsn": "{bsn}", "status": 422}}',
        "x{bsn}y",
        "first {bsn} and again {bsn}",
    ],
)
def test_valid_bsn_masked(template: str) -> None:
    masked = mask_identifiers(template.format(bsn=VALID_BSN))
    assert VALID_BSN not in masked
    assert MASK in masked


@pytest.mark.parametrize(
    "text",
    ["1234 AB 12", "1234AB 12", "1234AB12", "1234 ab 12", "1234 AB, 12", "9999ZZ 99999"],
)
def test_postcode_with_house_number_masked(text: str) -> None:
    masked = mask_identifiers(f"address: {text} (unknown)")
    assert masked == f"address: {MASK} (unknown)"


@pytest.mark.parametrize("text", ["1234 AB 12a", "1234AB 12A", "1234AB12b"])
def test_postcode_with_house_number_and_letter_masked(text: str) -> None:
    masked = mask_identifiers(f"address: {text}")
    assert "1234" not in masked


@pytest.mark.parametrize(
    "text",
    [
        INVALID_NINE_DIGITS,
        f"request {INVALID_NINE_DIGITS} took 12 ms",
        f"{VALID_BSN}0",  # ten digits: not a BSN
        f"1{VALID_BSN}",  # ten digits not starting with 0: neither a BSN nor a phone number
        "received 12 signals for region VT09 in 345 ms",
        "household hh.k1.0123456789abcdef0123456789abcdef recorded",
        "postcode 1234AB alone is not an address",
        "kafka offset 1234 partition 5",
        "",
    ],
)
def test_ordinary_text_left_alone(text: str) -> None:
    assert mask_identifiers(text) == text


@PROPERTY
@given(words, bsns, words)
def test_any_valid_bsn_between_words_masked(before: str, bsn: str, after: str) -> None:
    masked = mask_identifiers(before + bsn + after)
    assert bsn not in masked
    assert masked == mask_identifiers(before) + MASK + mask_identifiers(after)


@PROPERTY
@given(
    st.text(alphabet="0123456789", min_size=9, max_size=9).filter(lambda d: not passes_elfproef(d))
)
def test_nine_digits_failing_elfproef_left_alone(digits: str) -> None:
    assert mask_identifiers(f"id {digits} ok") == f"id {digits} ok"


@PROPERTY
@given(words)
def test_text_without_digits_unchanged(text: str) -> None:
    assert mask_identifiers(text) == text


@PROPERTY
@given(st.text(max_size=80))
def test_masking_is_idempotent(text: str) -> None:
    once = mask_identifiers(text)
    assert mask_identifiers(once) == once
