"""The leak guard finds identifiers hidden in text (BSN, date of birth, e-mail address, phone
number, postcode with house number) and leaves ordinary text, ids and timestamps alone."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.bsn import synthetic_bsn
from contracts.leak_guard import MASK, identifier_kinds, mask_identifiers

PROPERTY = settings(max_examples=200, deadline=None)
MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
          "september", "oktober", "november", "december")  # fmt: skip
ABBREVIATED = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")

# Text around a planted identifier: letters, digits, spaces and punctuation. No colon, so
# nothing after a date can make it a timestamp ("2015-03-12 10:30" is not a birth date).
surroundings = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCXYZ0123456789 .,;!?()'", max_size=40)
separators = st.sampled_from([" ", ", ", " (", ") ", "; ", " - ", "\n"])

bsns = st.integers(min_value=0, max_value=2**32).map(lambda s: synthetic_bsn(random.Random(s)))
birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=datetime.now(UTC).date())
date_texts = st.tuples(birth_dates, st.integers(0, 5)).map(
    lambda pair: (
        f"{pair[0]:%d-%m-%Y}",
        f"{pair[0].day}/{pair[0].month}/{pair[0].year}",
        f"{pair[0]:%Y-%m-%d}",
        f"{pair[0].day} {MONTHS[pair[0].month - 1]} {pair[0].year}",
        f"{pair[0]:%d.%m.%Y}",
        f"{pair[0].day} {ABBREVIATED[pair[0].month - 1].capitalize()}. {pair[0].year}",
    )[pair[1]]
)
emails = st.builds(
    "{}@{}.{}".format,
    st.from_regex(r"[a-z][a-z0-9._+-]{0,15}[a-z0-9]", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z]", fullmatch=True),
    st.sampled_from(["nl", "com", "org", "info", "frl"]),
)
mobile_numbers = st.from_regex(r"[0-9]{8}", fullmatch=True).map(
    lambda digits: random.Random(digits).choice(
        [
            f"06-{digits}",
            f"06{digits}",
            f"06 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}",
            f"+31 6 {digits}",
            f"+316{digits}",
            f"0031 6 {digits[:4]} {digits[4:]}",
            f"0031-6-{digits}",
        ]
    )
)
landline_numbers = st.tuples(
    st.integers(10, 99), st.from_regex(r"[0-9]{7}", fullmatch=True), st.booleans()
).map(lambda t: f"0{t[0]}-{t[1]}" if t[2] else f"+31 {t[0]} {t[1][:3]} {t[1][3:]}")
postcode_addresses = st.builds(
    "{}{}{} {}".format,
    st.integers(1000, 9999),
    st.sampled_from(["", " "]),
    st.from_regex(r"[A-Z]{2}", fullmatch=True),
    st.integers(1, 99999),
)
planted = st.one_of(
    bsns.map(lambda v: ("a BSN", v)),
    date_texts.map(lambda v: ("a date of birth", v)),
    emails.map(lambda v: ("an e-mail address", v)),
    st.one_of(mobile_numbers, landline_numbers).map(lambda v: ("a phone number", v)),
    postcode_addresses.map(lambda v: ("a postcode with house number", v)),
)


@PROPERTY
@given(surroundings, separators, planted, separators, surroundings)
def test_a_hidden_identifier_is_found_and_masked(
    before: str, left: str, identifier: tuple[str, str], right: str, after: str
) -> None:
    kind, value = identifier
    text = before + left + value + right + after
    assert kind in identifier_kinds(text), text
    masked = mask_identifiers(text)
    assert value not in masked
    assert MASK in masked


# No detector can match text without digits and without "@": every pattern needs a digit
# (BSN, date, phone, postcode) or an @ (e-mail). So this alphabet rules false positives out by
# construction, while still holding Dutch month names, dots, hyphens and plus signs.
no_digits_no_at = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,;:!?()'\"-+/_\n", max_size=120
)


@PROPERTY
@given(no_digits_no_at)
def test_text_without_identifiers_is_not_flagged(text: str) -> None:
    assert identifier_kinds(text) == []
    assert mask_identifiers(text) == text


@PROPERTY
@given(st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()))
def test_timestamps_are_not_dates_of_birth(timestamp: str) -> None:
    assert "a date of birth" not in identifier_kinds(timestamp)


@PROPERTY
@given(st.uuids().map(str))
def test_uuids_are_not_phone_numbers_dates_or_addresses(event_id: str) -> None:
    # nine digits between hex letters can still pass the elfproef; that is why ingest treats
    # event_id as a structured field and does not run the guard over it
    assert set(identifier_kinds(event_id)) <= {"a BSN"}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("geboren 12-03-2015", "a date of birth"),
        ("dob 12/3/2015", "a date of birth"),
        ("2015-03-12", "a date of birth"),
        ("op 12 maart 2015 geboren", "a date of birth"),
        ("mail j.jansen@example.nl", "an e-mail address"),
        ("bel 06-12345678", "a phone number"),
        ("+31 6 12345678", "a phone number"),
        ("020-1234567", "a phone number"),
        ("0031612345678", "a phone number"),
        ("(020) 123 45 67", "a phone number"),
        ("3511 AB 12", "a postcode with house number"),
        ("111222333", "a BSN"),
        ("dossier K-12-03-2015", "a date of birth"),
        ("ref AB12-03-2015", "a date of birth"),
        ("geb.12-03-2015", "a date of birth"),
        ("2015-03-12-B", "a date of birth"),
    ],
)
def test_common_dutch_spellings_are_found(text: str, kind: str) -> None:
    assert identifier_kinds(text) == [kind]


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-20T21:30:00+01:00",
        "2026-11-29 05:48:33,123 INFO started",
        "6f1c8a6e-2d1b-4a39-9d0c-1c2f3e4d5a6b",
        "hh.k1.0123456789abcdef0123456789abcdef",
        f"check on {(datetime.now(UTC) + timedelta(days=400)):%d-%m-%Y}",  # no one is born then
        "31-02-2015 is no date",
        "build 1.12-03-2015, step 123-12-03-2015",
        "version 1.2.3, took 12 ms, offset 1234 partition 5",
        "score 0.123456789",
        "region VT09 has 26 alerts",
    ],
)
def test_ids_timestamps_and_numbers_are_left_alone(text: str) -> None:
    assert identifier_kinds(text) == []
