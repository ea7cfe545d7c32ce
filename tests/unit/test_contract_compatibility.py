"""The contracts' compatibility rule (`make lint`): a change to a v2 schema that would break a v2
publisher is refused, an additive one accepted; and the committed schemas keep their release."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from pydantic import Field

from contracts import compatibility, export
from contracts.compatibility import breaking_changes
from services.signals import submission_v2
from services.signals.submission_v2 import SUBMISSION_V2_SCHEMA_FILE, SignalSubmissionV2

Change = Callable[[dict[str, Any]], None]
EXAMPLES = Path(__file__).parents[2] / "docs" / "examples" / "signal-v2"


def _released() -> dict[str, Any]:
    return json.loads((compatibility.RELEASED_DIR / SUBMISSION_V2_SCHEMA_FILE).read_text())


def _changed(change: Change) -> dict[str, Any]:
    schema = copy.deepcopy(_released())
    change(schema)
    return schema


def _person(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["$defs"]["PersonSubmissionV2"]


def _del_age(s: dict[str, Any]) -> None:
    del _person(s)["properties"]["age"]


def _age_as_text(s: dict[str, Any]) -> None:
    _person(s)["properties"]["age"]["anyOf"][0] = {"type": "string"}


BREAKING: dict[str, tuple[Change, str]] = {
    "a removed field": (_del_age, "persons[]: field 'age' removed"),
    "a new required field": (
        lambda s: s["required"].append("forms_of_violence"),
        "field 'forms_of_violence' is now required",
    ),
    "a narrowed enum": (
        lambda s: s["$defs"]["SignalTypeV2"]["enum"].remove("shelter_placement"),
        'signal_type: no longer accepts "shelter_placement"',
    ),
    "a changed type": (_age_as_text, "persons[].age: type changed from integer to string"),
    "a lowered maximum": (
        lambda s: s["properties"]["persons"].update(maxItems=5),
        "persons: maxItems lowered to 5",
    ),
    "a changed pattern": (
        lambda s: s["properties"]["event_id"].update(pattern="^[0-9a-f-]{36}$"),
        "event_id: pattern changed",
    ),
}


@pytest.mark.parametrize("name", sorted(BREAKING))
def test_a_change_that_breaks_a_v2_publisher_is_refused(name: str) -> None:
    change, expected = BREAKING[name]
    problems = breaking_changes(_released(), _changed(change))
    assert any(expected in problem for problem in problems), problems


def test_refusing_extra_fields_where_they_were_allowed_is_a_break() -> None:
    open_schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    closed = {**open_schema, "additionalProperties": False}
    assert breaking_changes(open_schema, closed) == [
        "(the document): now refuses fields it does not name"
    ]
    assert breaking_changes(closed, open_schema) == []


def _new_optional_field(s: dict[str, Any]) -> None:
    _person(s)["properties"]["pronoun_code"] = {"type": "string", "maxLength": 8}


def _new_signal_type(s: dict[str, Any]) -> None:
    s["$defs"]["SignalTypeV2"]["enum"].append("stalking_report")


def _required_made_optional(s: dict[str, Any]) -> None:
    s["required"].remove("severity")


def _widened_bound(s: dict[str, Any]) -> None:
    s["properties"]["persons"]["maxItems"] = 50


def _widened_type(s: dict[str, Any]) -> None:
    _person(s)["properties"]["age"]["anyOf"].append({"type": "string", "pattern": "^[0-9]+$"})


ADDITIVE: dict[str, Change] = {
    "a new optional field": _new_optional_field,
    "a new enum value": _new_signal_type,
    "a required field made optional": _required_made_optional,
    "a widened bound": _widened_bound,
    "a new alternative": _widened_type,
    "a changed description": lambda s: s.update(description="Another wording."),
}


@pytest.mark.parametrize("name", sorted(ADDITIVE))
def test_an_additive_change_is_accepted(name: str) -> None:
    assert breaking_changes(_released(), _changed(ADDITIVE[name])) == []


class _WithAnOptionalField(SignalSubmissionV2):
    """A v2 submission grown by an optional field, as a later release might."""

    publisher_case_count: int | None = Field(default=None, ge=0)


class _WithARequiredField(SignalSubmissionV2):
    """A v2 submission that suddenly demands a field publishers do not send."""

    publisher_case_count: int


def test_the_rule_judges_models_as_pydantic_exports_them() -> None:
    released = _released()
    grown = export.published(_WithAnOptionalField.model_json_schema(), SUBMISSION_V2_SCHEMA_FILE)
    demanding = export.published(_WithARequiredField.model_json_schema(), "x")
    assert breaking_changes(released, grown) == []
    assert breaking_changes(released, demanding) == [
        "(the document): field 'publisher_case_count' is now required"
    ]


def test_the_committed_v2_schemas_keep_their_release() -> None:
    assert compatibility.check() == []
    released = {p.name for p in compatibility.RELEASED_DIR.glob("*.json")}
    assert released == {export.SIGNAL_V2_SCHEMA_FILE, SUBMISSION_V2_SCHEMA_FILE}
    assert compatibility.main(["check"]) == 0
    assert compatibility.main(["bogus"]) == 2


def _copy_schemas(tmp_path: Path) -> tuple[Path, Path]:
    schemas, released = tmp_path / "schemas", tmp_path / "schemas" / "released"
    shutil.copytree(compatibility.RELEASED_DIR, released)
    for name, text in (export.rendered_files() | submission_v2.rendered_files()).items():
        (schemas / name).write_text(text, encoding="utf-8")
    return schemas, released


def _rewrite(path: Path, change: Change) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    change(schema)
    path.write_text(json.dumps(schema), encoding="utf-8")


def test_record_refuses_a_break_and_releases_an_additive_change(tmp_path: Path) -> None:
    schemas, released = _copy_schemas(tmp_path)
    before = (released / SUBMISSION_V2_SCHEMA_FILE).read_text(encoding="utf-8")
    _rewrite(schemas / SUBMISSION_V2_SCHEMA_FILE, _del_age)
    assert compatibility.record(schemas, released) == [
        f"{SUBMISSION_V2_SCHEMA_FILE}: persons[]: field 'age' removed"
    ]
    assert (released / SUBMISSION_V2_SCHEMA_FILE).read_text(encoding="utf-8") == before

    (schemas / SUBMISSION_V2_SCHEMA_FILE).write_text(before, encoding="utf-8")
    _rewrite(schemas / SUBMISSION_V2_SCHEMA_FILE, _new_optional_field)
    assert compatibility.record(schemas, released) == []
    # released now, so taking the new field away again breaks the new release
    (schemas / SUBMISSION_V2_SCHEMA_FILE).write_text(before, encoding="utf-8")
    assert compatibility.check(schemas, released) == [
        f"{SUBMISSION_V2_SCHEMA_FILE}: persons[]: field 'pronoun_code' removed"
    ]


def test_an_unreleased_or_removed_v2_schema_fails_the_check(tmp_path: Path) -> None:
    schemas, released = _copy_schemas(tmp_path)
    (schemas / "signal-correction.v2.schema.json").write_text("{}", encoding="utf-8")
    (schemas / export.SIGNAL_V2_SCHEMA_FILE).unlink()
    problems = compatibility.check(schemas, released)
    assert any("signal-correction.v2.schema.json: not released yet" in p for p in problems)
    assert f"{export.SIGNAL_V2_SCHEMA_FILE}: removed, and publishers built against it" in problems


@pytest.mark.parametrize("name", sorted(ADDITIVE))
def test_what_the_rule_accepts_still_takes_every_sector_s_example(name: str) -> None:
    """The rule's promise, on real bodies: after a change it accepts, a body the released
    schema took is still taken."""
    validator = jsonschema_rs.validator_for(_changed(ADDITIVE[name]))
    for path in sorted(EXAMPLES.glob("*.json")):
        validator.validate(json.loads(path.read_text(encoding="utf-8")))


def test_a_break_it_refuses_would_have_refused_a_real_body() -> None:
    body = json.loads((EXAMPLES / "shelter.json").read_text(encoding="utf-8"))
    narrowed = _changed(BREAKING["a narrowed enum"][0])
    assert jsonschema_rs.validator_for(_released()).is_valid(body)
    assert not jsonschema_rs.validator_for(narrowed).is_valid(body)
