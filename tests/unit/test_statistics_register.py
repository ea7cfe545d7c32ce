"""CBS in the recipient register: a recipient of statistics only, with its legal basis marked
for the privacy officer, its threshold, and no way to receive records."""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy.recipients import (
    DEFAULT_RECIPIENTS,
    RecipientRegister,
    RecipientRegisterError,
    UnknownRecipientError,
)

CBS_ENTRY = """
[statistics.cbs]
description = "CBS."
legal_basis = "Wmo 2015"
privacy_officer_confirms = "the basis"
dimensions = ["region", "kind"]
threshold = 10
"""


def test_cbs_receives_statistics_with_a_legal_basis_the_fg_must_confirm() -> None:
    register = RecipientRegister.load(DEFAULT_RECIPIENTS)
    cbs = register.statistics_recipient("cbs")
    assert cbs.threshold == 10
    assert "Wmo 2015" in cbs.legal_basis and "to be confirmed by the FG" in cbs.legal_basis
    assert "information protocol" in cbs.privacy_officer_confirms
    with pytest.raises(UnknownRecipientError, match="aggregate statistics only"):
        register.recipient("cbs")
    with pytest.raises(UnknownRecipientError, match="no recipient of statistics"):
        register.statistics_recipient("inspectie-jenv")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("threshold = 10", "threshold = 2"),
        ('["region", "kind"]', '["region", "household"]'),
        ('privacy_officer_confirms = "the basis"', ""),
    ],
)
def test_a_statistics_entry_that_could_disclose_is_refused(
    tmp_path: Path, change: str, reason: str
) -> None:
    shipped = DEFAULT_RECIPIENTS.read_text(encoding="utf-8").split("[statistics.cbs]")[0]
    path = tmp_path / "recipients.toml"
    path.write_text(shipped + CBS_ENTRY.replace(change, reason), encoding="utf-8")
    with pytest.raises(RecipientRegisterError, match=r"statistics\.cbs"):
        RecipientRegister.load(path)
