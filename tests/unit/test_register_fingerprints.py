"""A purpose register adopted before a field existed keeps its fingerprint when it is read back
from the access log: else the compliance check finds no register in force for every access
logged under it ("permitted before any purpose register was adopted"), as the upgrade test of
the stop-14 release did when signal.v2's fields came in."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from privacy.purposes import TIMELINE_FIELDS, PurposeRegister

ADDED_WITH_V2 = ("hidden_forms", "hidden_roles")


def _as_adopted_before_v2() -> dict[str, Any]:
    """The current register's canonical form without what version 5 added."""
    adopted = orjson.loads(PurposeRegister.load().canonical_json())
    adopted.pop("sectors", None)
    for purpose in adopted["purposes"].values():
        for name in ADDED_WITH_V2:
            purpose.pop(name, None)
        purpose["fields"] = [f for f in purpose["fields"] if f in V1_FIELDS]
    return dict(adopted)


V1_FIELDS = TIMELINE_FIELDS - {"forms_of_violence"}


def test_a_register_adopted_before_v2_fields_reads_back_with_its_fingerprint() -> None:
    logged = _as_adopted_before_v2()
    fingerprint = hashlib.sha256(orjson.dumps(logged, option=orjson.OPT_SORT_KEYS)).hexdigest()
    read_back = PurposeRegister.model_validate(logged)
    assert read_back.fingerprint() == fingerprint
    assert orjson.loads(read_back.canonical_json()) == logged


def test_the_register_file_reads_back_from_its_canonical_form_unchanged() -> None:
    loaded = PurposeRegister.load()
    read_back = PurposeRegister.model_validate(orjson.loads(loaded.canonical_json()))
    assert read_back == loaded and read_back.fingerprint() == loaded.fingerprint()
