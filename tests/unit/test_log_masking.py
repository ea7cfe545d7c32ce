"""The last line of defence in logging: identifiers that slip into a log line are masked."""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.bsn import passes_elfproef, synthetic_bsn
from contracts.leak_guard import mask_identifiers
from services.logs import RequestLines, configure_logging, mask_log_text

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


HOUSEHOLD = "hh.k1.0123456789abcdef0123456789abcdef"
PERSON_K2 = "p.k2.fedcba9876543210fedcba9876543210"
RECIPIENT = "x.inspectie-jenv.k3.00112233445566778899aabbccddeeff"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GET /v1/households/{HOUSEHOLD}/timeline", "GET /v1/households/hh.k1.***/timeline"),
        (f"/v1/persons/{PERSON_K2}/timeline", "/v1/persons/p.k2.***/timeline"),
        (f'{{"person": "{PERSON_K2}"}}', '{"person": "p.k2.***"}'),
        (f"record {RECIPIENT} written", "record x.inspectie-jenv.k3.*** written"),
        ("hh.k17.0123456789abcdef truncated", "hh.k17.*** truncated"),
        (f"{HOUSEHOLD},{PERSON_K2}", "hh.k1.***,p.k2.***"),
        (f"hh.k1.ab{VALID_BSN}cdef0123456789abcdef012", "hh.k1.***"),  # a BSN in the hex
    ],
)
def test_pseudonyms_of_every_domain_and_key_version_masked(text: str, expected: str) -> None:
    assert mask_log_text(text) == expected


@pytest.mark.parametrize(
    "text", ["GET /v1/worklist 200", "shop.k1.notapseudonym", "hh.k1.short", "p.kx.0123456789ab"]
)
def test_text_without_a_pseudonym_left_alone_by_log_masking(text: str) -> None:
    assert mask_log_text(text) == text


@PROPERTY
@given(st.text(alphabet="0123456789abcdef", min_size=32, max_size=32), st.integers(1, 99))
def test_no_hex_of_any_pseudonym_survives_log_masking(digest: str, key: int) -> None:
    for domain in ("hh", "p", "x.inspectie-jenv"):
        masked = mask_log_text(f"GET /v1/x/{domain}.k{key}.{digest}/timeline")
        assert masked == f"GET /v1/x/{domain}.k{key}.***/timeline"


@PROPERTY
@given(st.text(max_size=80))
def test_log_masking_is_idempotent(text: str) -> None:
    once = mask_log_text(text)
    assert mask_log_text(once) == once


def test_every_rendered_log_line_holds_no_pseudonym_nor_bsn(tmp_path: Path) -> None:
    log_file = tmp_path / "query.log"
    configure_logging("query", "info", log_file)
    structlog.get_logger("t").info("looked up", household=HOUSEHOLD, note=f"bsn {VALID_BSN}")
    logging.getLogger("uvicorn.access").info('%s - "GET /v1/persons/%s" 200', "::1", PERSON_K2)
    logging.getLogger("other").warning("recipient %s", RECIPIENT)
    for handler in logging.getLogger().handlers:
        handler.flush()
    written = log_file.read_text()
    assert "hh.k1.***" in written and "p.k2.***" in written and "x.inspectie-jenv.k3.***" in written
    for secret in (HOUSEHOLD, PERSON_K2, RECIPIENT, VALID_BSN, HOUSEHOLD[6:]):
        assert secret not in written


def test_request_lines_name_the_path_with_its_pseudonyms_masked(tmp_path: Path) -> None:
    log_file = tmp_path / "api.log"
    configure_logging("api", "info", log_file)
    app = FastAPI()
    app.add_middleware(RequestLines)

    @app.get("/v1/households/{household}/timeline")
    def timeline(household: str) -> dict[str, str]:
        return {"ok": "yes"}

    with TestClient(app) as client:
        assert client.get(f"/v1/households/{HOUSEHOLD}/timeline?purpose=triage").status_code == 200
    for handler in logging.getLogger().handlers:
        handler.flush()
    lines = [json.loads(t) for t in log_file.read_text().splitlines() if t.startswith("{")]
    (line,) = [line for line in lines if line["event"] == "request"]
    assert line["path"] == "/v1/households/hh.k1.***/timeline"
    assert line["method"] == "GET" and line["status"] == 200 and "purpose" not in str(line)
