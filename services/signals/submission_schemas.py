"""The JSON Schema of what publishers send the ingest API, published in contracts/schemas next
to the event's: the submission models live here in services (they hold sealed values and
address rules from privacy/), so contracts/export.py cannot make these files itself. The
OpenAPI document declares the same models; `make contracts` writes both kinds of file and a
test keeps the committed ones equal to what the models produce."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from contracts import export
from services.signals.schemas import (
    CorrectionSubmission,
    RetractionSubmission,
    SignalSubmission,
)

SUBMISSION_SCHEMA_FILE = "signal-submission.v1.schema.json"
CORRECTION_SUBMISSION_SCHEMA_FILE = "signal-correction-submission.v1.schema.json"
RETRACTION_SUBMISSION_SCHEMA_FILE = "signal-retraction-submission.v1.schema.json"
_MODELS: dict[str, type[BaseModel]] = {
    SUBMISSION_SCHEMA_FILE: SignalSubmission,
    CORRECTION_SUBMISSION_SCHEMA_FILE: CorrectionSubmission,
    RETRACTION_SUBMISSION_SCHEMA_FILE: RetractionSubmission,
}


def submission_schema(file_name: str) -> dict[str, Any]:
    """The JSON Schema a publisher's body is validated against (validation mode: what may be
    sent, defaults optional), with what each signal type means where it carries one."""
    model = _MODELS[file_name]
    schema = export.published(model.model_json_schema(), file_name)
    if "signal_type" in model.model_fields:
        schema["x-signal-types"] = export.signal_type_meanings()
    return schema


def rendered_files() -> dict[str, str]:
    """File name -> exact text of every submission schema file."""
    return {name: export.render(submission_schema(name)) for name in _MODELS}


def write_all(directory: Path = export.SCHEMA_DIR) -> list[Path]:
    """Writes the submission schema files beside the contracts' and returns their paths."""
    return export.write_all(directory, rendered_files())
