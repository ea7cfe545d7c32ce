"""The BSN elfproef (11-check) and the synthetic BSN generator."""

from __future__ import annotations

import random

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contracts.bsn import passes_elfproef, synthetic_bsn

PROPERTY = settings(max_examples=50, deadline=None)
ASCII_DIGITS = "0123456789"
nine_digits = st.text(alphabet=ASCII_DIGITS, min_size=9, max_size=9)


def weighted_sum(digits: str) -> int:
    """9*d1 + 8*d2 + ... + 2*d8 - 1*d9, written independently of the production code."""
    total = 0
    for index, character in enumerate(digits):
        value = ord(character) - ord("0")
        total += -value if index == 8 else (9 - index) * value
    return total


def reference_elfproef(candidate: str) -> bool:
    """The 11-check as documented: nine ASCII digits, not the number 0, sum divisible by 11."""
    if len(candidate) != 9 or any(c not in ASCII_DIGITS for c in candidate):
        return False
    return int(candidate) != 0 and weighted_sum(candidate) % 11 == 0


@st.composite
def likely_valid(draw: st.DrawFn) -> str:
    """Eight random digits and the check digit that makes the 11-check pass, when one exists."""
    first = draw(st.text(alphabet=ASCII_DIGITS, min_size=8, max_size=8))
    partial = weighted_sum(first + "0")
    last = partial % 11
    return first + (str(last) if last < 10 else draw(st.sampled_from(ASCII_DIGITS)))


def _in_digit_block(zero: int, digits: str) -> str:
    """The digits written with the Unicode digit characters starting at code point `zero`."""
    return "".join(chr(zero + int(d)) for d in digits)


def _zero_sum_but_not_zero(candidate: str) -> bool:
    return weighted_sum(candidate) == 0 and int(candidate) != 0


@PROPERTY
@given(st.one_of(nine_digits, likely_valid()))
def test_elfproef_matches_reference(candidate: str) -> None:
    # Numbers like 000000012 (weighted sum exactly 0) are covered by their own test below.
    assume(not _zero_sum_but_not_zero(candidate))
    assert passes_elfproef(candidate) == reference_elfproef(candidate)


@PROPERTY
@given(st.integers(min_value=0, max_value=10**9 - 1))
def test_elfproef_matches_reference_over_all_numbers(number: int) -> None:
    candidate = f"{number:09d}"
    assume(not _zero_sum_but_not_zero(candidate))
    assert passes_elfproef(candidate) == reference_elfproef(candidate)


def test_nonzero_number_with_weighted_sum_zero_passes() -> None:
    assert weighted_sum("000000012") == 0
    assert passes_elfproef("000000012")


@pytest.mark.parametrize("known_valid", ["111222333", "123456782", "999999990"])
def test_known_valid_numbers_pass(known_valid: str) -> None:
    assert reference_elfproef(known_valid)
    assert passes_elfproef(known_valid)


def test_all_zeros_rejected() -> None:
    assert not passes_elfproef("000000000")


@pytest.mark.parametrize(
    "candidate",
    [
        "",
        "12345678",  # 8 digits
        "1234567820",  # 10 digits
        "12345678a",
        "1234 5678",
        " 12345678",
        "12345678 ",
        "+12345678",
        "-12345678",
        "1234.5678",
        "١٢٣٤٥٦٧٨٢",  # Arabic-Indic digits of 123456782, which passes in ASCII
        _in_digit_block(0xFF10, "123456782"),  # full-width digits
        _in_digit_block(0x06F0, "123456782"),  # Extended Arabic-Indic digits
        _in_digit_block(0x0966, "123456782"),  # Devanagari digits
        "12345678\u00b2",  # superscript two: str.isdigit() is True for it
        "12345678\u0662",  # one Arabic-Indic digit at the end
    ],
)
def test_malformed_candidates_rejected(candidate: str) -> None:
    assert passes_elfproef("123456782")
    assert not passes_elfproef(candidate)


@PROPERTY
@given(
    st.text(min_size=9, max_size=9).filter(lambda text: any(c not in ASCII_DIGITS for c in text))
)
def test_any_non_ascii_digit_character_rejected(candidate: str) -> None:
    assert not passes_elfproef(candidate)


@PROPERTY
@given(nine_digits, st.integers(min_value=0, max_value=20).filter(lambda n: n != 9))
def test_other_lengths_rejected(digits: str, length: int) -> None:
    candidate = (digits * 3)[:length]
    assert not passes_elfproef(candidate)


@PROPERTY
@given(st.integers(min_value=0, max_value=2**32), st.integers(0, 8), st.integers(1, 9))
def test_single_digit_error_is_detected(seed: int, position: int, delta: int) -> None:
    valid = synthetic_bsn(random.Random(seed))
    digit = (int(valid[position]) + delta) % 10
    changed = valid[:position] + str(digit) + valid[position + 1 :]
    assert not passes_elfproef(changed)


@PROPERTY
@given(st.integers(min_value=0, max_value=2**32), st.integers(0, 7))
def test_adjacent_transposition_is_detected(seed: int, position: int) -> None:
    valid = synthetic_bsn(random.Random(seed))
    assume(valid[position] != valid[position + 1])
    swapped = valid[:position] + valid[position + 1] + valid[position] + valid[position + 2 :]
    assert not passes_elfproef(swapped)


@PROPERTY
@given(st.integers(min_value=0, max_value=2**64))
def test_synthetic_bsn_always_passes(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(20):
        bsn = synthetic_bsn(rng)
        assert len(bsn) == 9
        assert all(c in ASCII_DIGITS for c in bsn)
        assert reference_elfproef(bsn)
        assert passes_elfproef(bsn)


@PROPERTY
@given(st.integers(min_value=0, max_value=2**64))
def test_synthetic_bsn_deterministic_per_seed(seed: int) -> None:
    first = random.Random(seed)
    second = random.Random(seed)
    assert [synthetic_bsn(first) for _ in range(10)] == [synthetic_bsn(second) for _ in range(10)]


def test_synthetic_bsn_varies_across_draws() -> None:
    rng = random.Random(7)
    assert len({synthetic_bsn(rng) for _ in range(200)}) > 190
