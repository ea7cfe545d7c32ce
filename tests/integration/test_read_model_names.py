"""The end-to-end checks of metrics and `radar status` name every read model the projector
keeps: a read model added to the composition root but not to tests/support/read_models.py
would leave those checks waiting for a set that never comes (CI on the feedback merge)."""

from __future__ import annotations

from services.bootstrap import read_models
from services.database import Database
from tests.support.read_models import READ_MODELS


def test_the_support_list_names_every_read_model_the_projector_keeps(
    sqlite_database: Database,
) -> None:
    assert {model.name for model in read_models(sqlite_database)} == READ_MODELS
