"""Exports the contracts as JSON Schema and an AsyncAPI document.

The files under contracts/schemas are generated from the pydantic models; a test keeps them in
sync, so a publisher reading them reads exactly what the radar validates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from contracts.correction_v1 import CORRECTION_SCHEMA, SignalCorrectionV1
from contracts.signal_types_v2 import vocabulary_extensions
from contracts.signal_v1 import SIGNAL_SCHEMA, SIGNAL_TOPIC_DEFAULT, SignalEventV1
from contracts.signal_v2 import SIGNAL_SCHEMA_V2, SignalEventV2
from contracts.vocabulary import SIGNAL_TYPES

SCHEMA_DIR = Path(__file__).parent / "schemas"
SIGNAL_SCHEMA_FILE = "signal-event.v1.schema.json"
CORRECTION_SCHEMA_FILE = "signal-correction.v1.schema.json"
ASYNCAPI_FILE = "asyncapi.json"
SIGNAL_V2_SCHEMA_FILE = "signal-event.v2.schema.json"
ASYNCAPI_V2_FILE = "asyncapi.v2.json"


def published(schema: dict[str, Any], file_name: str) -> dict[str, Any]:
    """A model's JSON Schema as a published file: its dialect and its id (the file's name), so
    every file under contracts/schemas, whichever layer makes it, is named the same way."""
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"urn:signal-radar:contracts:{file_name}"
    return schema


def signal_type_meanings() -> dict[str, Any]:
    """What each signal type means and which sectors may publish it (`x-signal-types`)."""
    return {
        str(kind): {
            "meaning": definition.meaning,
            "sectors": sorted(str(sector) for sector in definition.sectors),
        }
        for kind, definition in SIGNAL_TYPES.items()
    }


def signal_event_schema() -> dict[str, Any]:
    """The JSON Schema of SignalEventV1, with the meaning of each signal type attached."""
    schema = published(SignalEventV1.model_json_schema(), SIGNAL_SCHEMA_FILE)
    schema["x-signal-types"] = signal_type_meanings()
    return schema


def signal_event_schema_v2() -> dict[str, Any]:
    """The JSON Schema of SignalEventV2, with the v2 vocabulary's terms attached."""
    return published(SignalEventV2.model_json_schema(), SIGNAL_V2_SCHEMA_FILE) | (
        vocabulary_extensions()
    )


def signal_correction_schema() -> dict[str, Any]:
    """The JSON Schema of SignalCorrectionV1."""
    return published(SignalCorrectionV1.model_json_schema(), CORRECTION_SCHEMA_FILE)


_TOPIC_DESCRIPTION = (
    "Pseudonymised signals of domestic violence and child abuse, keyed by household "
    "pseudonym so that one household's signals keep their order."
)
_KEY_IS_HOUSEHOLD = "household pseudonym"
_KEY_IS_FIRST_KNOWN = "household pseudonym as first known, the key of the corrected signal"


def _message(name: str, schema_header: str, key: str, payload_file: str) -> dict[str, Any]:
    """One AsyncAPI message: its `schema` header, its Kafka key and its payload's schema file."""
    return {
        "name": name,
        "contentType": "application/json",
        "headers": {
            "type": "object",
            "properties": {"schema": {"type": "string", "const": schema_header}},
        },
        "bindings": {"kafka": {"key": {"type": "string", "description": key}}},
        "payload": {"$ref": f"./{payload_file}"},
    }


def _asyncapi(version: str, description: str, messages: dict[str, Any]) -> dict[str, Any]:
    """An AsyncAPI 3.0 description of the signals topic carrying these messages, told apart
    by the `schema` header."""
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Signal radar topics", "version": version, "description": description},
        "channels": {
            "signals": {
                "address": SIGNAL_TOPIC_DEFAULT,
                "messages": {key: {"$ref": f"#/components/messages/{key}"} for key in messages},
            }
        },
        "operations": {
            "publishSignal": {
                "action": "send",
                "channel": {"$ref": "#/channels/signals"},
                "summary": "The ingest service publishes each accepted signal, correction "
                "and retraction once.",
            },
            "consumeSignal": {
                "action": "receive",
                "channel": {"$ref": "#/channels/signals"},
                "summary": "The aggregator applies each record exactly once to the event store.",
            },
        },
        "components": {"messages": messages},
    }


def _v1_messages() -> dict[str, Any]:
    return {
        "signalEventV1": _message(
            "SignalEventV1", SIGNAL_SCHEMA, _KEY_IS_HOUSEHOLD, SIGNAL_SCHEMA_FILE
        ),
        "signalCorrectionV1": _message(
            "SignalCorrectionV1", CORRECTION_SCHEMA, _KEY_IS_FIRST_KNOWN, CORRECTION_SCHEMA_FILE
        ),
    }


def asyncapi_document() -> dict[str, Any]:
    """The v1 AsyncAPI document: signals and their corrections on the signals topic."""
    return _asyncapi("1.0.0", _TOPIC_DESCRIPTION, _v1_messages())


def asyncapi_document_v2() -> dict[str, Any]:
    """The v2 AsyncAPI document: the same topic, where v1 and v2 signals travel side by side
    (a household's signals keep one order whichever version each publisher sends)."""
    messages = _v1_messages()
    messages["signalEventV2"] = _message(
        "SignalEventV2", SIGNAL_SCHEMA_V2, _KEY_IS_HOUSEHOLD, SIGNAL_V2_SCHEMA_FILE
    )
    description = (
        f"{_TOPIC_DESCRIPTION} Publishers move from v1 to v2 at their own pace: a consumer "
        "reads both and upcasts v1 (contracts/upcast_v1_v2.py)."
    )
    return _asyncapi("2.0.0", description, messages)


def rendered_files() -> dict[str, str]:
    """File name -> exact text of every generated contract file."""
    return {
        SIGNAL_SCHEMA_FILE: render(signal_event_schema()),
        CORRECTION_SCHEMA_FILE: render(signal_correction_schema()),
        ASYNCAPI_FILE: render(asyncapi_document()),
        SIGNAL_V2_SCHEMA_FILE: render(signal_event_schema_v2()),
        ASYNCAPI_V2_FILE: render(asyncapi_document_v2()),
    }


def write_all(directory: Path = SCHEMA_DIR, files: Mapping[str, str] | None = None) -> list[Path]:
    """Writes the generated contract files (by default this module's) and returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (rendered_files() if files is None else files).items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def render(document: dict[str, Any]) -> str:
    """The exact text of a generated file (sorted keys, so a diff shows only real changes)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
