"""The ingest OpenAPI document says exactly what is accepted and answered, so that a publisher can
generate a client from it: every body and every answer is a typed schema (none a free-form
object), the bodies are the submission models, and those agree with the JSON Schema files
published in contracts/schemas."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.export import SCHEMA_DIR
from services import bootstrap
from services.settings import Settings
from services.signals import submission_schemas

Schema = dict[str, Any]
BODIES = {
    ("post", "/v1/signals"): "SignalSubmission",
    ("post", "/v1/signals/batch"): "BatchSubmission",
    ("post", "/v1/signals/{event_id}/correction"): "CorrectionSubmission",
    ("post", "/v1/signals/{event_id}/retraction"): "RetractionSubmission",
}
PUBLISHED = {
    submission_schemas.SUBMISSION_SCHEMA_FILE: "SignalSubmission",
    submission_schemas.CORRECTION_SUBMISSION_SCHEMA_FILE: "CorrectionSubmission",
    submission_schemas.RETRACTION_SUBMISSION_SCHEMA_FILE: "RetractionSubmission",
}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Schema:
    settings = Settings(data_dir=tmp_path_factory.mktemp("ingest") / "data")
    built: Schema = bootstrap.ingest_app(settings).openapi()
    return built


def _resolve(document: Schema, schema: Schema) -> Schema:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = document["components"]["schemas"][name]
    return schema


def _alternatives(document: Schema, schema: Schema) -> Iterator[Schema]:
    """The schema itself, or each branch of a union, resolved."""
    schema = _resolve(document, schema)
    branches = schema.get("anyOf", []) + schema.get("oneOf", [])
    if not branches:
        yield schema
    for branch in branches:
        yield from _alternatives(document, branch)


def _json_schema(content: Schema) -> Schema | None:
    """The schema of a body's JSON media type (application/json, or a +json one such as
    application/problem+json); None when it has none."""
    for media, description in content.items():
        if media == "application/json" or media.endswith("+json"):
            schema: Schema | None = description.get("schema")
            return schema
    return None


def _bodies(document: Schema) -> Iterator[tuple[str, Schema | None]]:
    """(where, JSON schema) of every request body and every answer; None where none is given."""
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                yield f"{method} {path} body", _json_schema(operation["requestBody"]["content"])
            for status, answer in operation["responses"].items():
                yield f"{method} {path} {status}", _json_schema(answer.get("content", {}))


def test_every_body_and_answer_has_a_typed_schema(document: Schema) -> None:
    seen = 0
    for where, schema in _bodies(document):
        assert schema is not None, f"{where}: no JSON schema"
        for alternative in _alternatives(document, schema):
            seen += 1
            assert alternative.get("additionalProperties") is not True, f"{where}: free-form"
            if alternative.get("type") == "object":
                typed = alternative.get("properties") or isinstance(
                    alternative.get("additionalProperties"), dict
                )
                assert typed, f"{where}: an untyped object"
            assert alternative, f"{where}: an empty schema (anything goes)"
    assert seen > 40  # every route's answers were looked at


def test_the_bodies_are_the_submission_models(document: Schema) -> None:
    for (method, path), model in BODIES.items():
        body = document["paths"][path][method]["requestBody"]
        assert body["required"] is True
        assert body["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{model}"
        }
    batch = document["components"]["schemas"]["BatchSubmission"]
    assert batch["properties"]["signals"]["items"] == {
        "$ref": "#/components/schemas/SignalSubmission"
    }
    person = document["components"]["schemas"]["PersonSubmission"]["properties"]
    household = document["components"]["schemas"]["HouseholdSubmission"]["properties"]
    assert {"bsn", "sealed_bsn"} <= set(person)  # plain and sealed identifiers
    assert {"postcode", "house_number", "addition", "sealed_address"} <= set(household)


def test_the_documented_errors_name_fields_and_the_answers_keep_their_status_codes(
    document: Schema,
) -> None:
    single = document["paths"]["/v1/signals"]["post"]["responses"]
    assert set(single) == {"200", "202", "401", "403", "409", "413", "415", "422", "429", "503"}
    refusal = _json_schema(single["422"]["content"])
    assert refusal is not None
    assert "errors" in _resolve(document, refusal)["properties"]  # the field errors
    correction = document["paths"]["/v1/signals/{event_id}/correction"]["post"]["responses"]
    assert {"200", "202", "403", "404", "409", "422"} <= set(correction)


def _as_in_openapi(node: Any) -> Any:
    """A published file's schema spelled as the OpenAPI document spells it: references into
    components, no `default: null` (FastAPI leaves it out; absent means null for these)."""
    if isinstance(node, dict):
        return {
            key: value.replace("#/$defs/", "#/components/schemas/")
            if key == "$ref"
            else _as_in_openapi(value)
            for key, value in node.items()
            if not (key == "default" and value is None)
        }
    if isinstance(node, list):
        return [_as_in_openapi(item) for item in node]
    return node


@pytest.mark.parametrize("file_name", sorted(PUBLISHED))
def test_the_published_submission_schemas_are_what_the_openapi_declares(
    document: Schema, file_name: str
) -> None:
    published = json.loads((Path(SCHEMA_DIR) / file_name).read_text(encoding="utf-8"))
    assert published["$id"].endswith(file_name)
    published = _as_in_openapi(published)
    definitions = published.pop("$defs", {})
    for key in ("$schema", "$id", "x-signal-types"):
        published.pop(key, None)
    components = document["components"]["schemas"]
    assert _as_in_openapi(components[PUBLISHED[file_name]]) == published
    for name, schema in definitions.items():
        assert _as_in_openapi(components[name]) == schema, name
