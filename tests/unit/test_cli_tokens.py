"""Tokens tell the truth (issue 22): `radar admin token` refuses to mint one that could not be
used, in one line and without printing a token; and an expired token is refused once the small,
documented clock leeway (privacy.credentials.CLOCK_LEEWAY) has passed, not 30 s later."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner

from contracts.regions import VtRegion
from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole, Publisher
from privacy.credentials import CLOCK_LEEWAY, Audience, InvalidCredentialError, TokenAuthority
from services.cli import app

PUBLISHER = Publisher("sys-politie", "politie-utrecht", Sector.POLICE)
MINT = ["admin", "token", "publisher", "--subject", "sys-politie"]
MINT += ["--organisation", "politie-utrecht", "--sector", "police"]


def _mint(tmp_path: Path, *hours: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, [*MINT, *hours], env={"RADAR_DATA_DIR": str(tmp_path / "data")}
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("hours", "why"),
    [
        ("-1", "expired when it is made"),
        ("0", "expired when it is made"),
        ("-0.5", "expired when it is made"),
        ("0.001", "shorter than a minute"),
        ("nan", "not a number of hours"),
        ("inf", "not a number of hours"),
        ("1e12", "longer than a token's expiry can hold"),
    ],
)
def test_a_token_that_could_not_be_used_is_refused_in_one_line(
    tmp_path: Path, hours: str, why: str
) -> None:
    exit_code, printed, error = _mint(tmp_path, "--hours", hours)
    assert exit_code == 2
    assert printed == ""  # no token
    assert error.count("\n") == 1 and why in error and "no token was made" in error
    assert "eyJ" not in error and "Traceback" not in error


@pytest.mark.parametrize(("hours", "lifetime"), [(None, 8 * 3600), ("0.5", 1800), ("24", 86400)])
def test_a_usable_token_is_printed_with_the_lifetime_asked(
    tmp_path: Path, hours: str | None, lifetime: int
) -> None:
    exit_code, printed, _ = _mint(tmp_path, *(["--hours", hours] if hours else []))
    assert exit_code == 0
    token = printed.strip()
    authority = TokenAuthority(tmp_path / "data" / "keys")
    assert authority.verify(token, Audience.INGEST) == PUBLISHER
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == lifetime


def test_the_clock_leeway_is_a_few_seconds() -> None:
    assert timedelta(0) < CLOCK_LEEWAY <= timedelta(seconds=5)


def test_a_token_expired_longer_ago_than_the_leeway_is_refused(tmp_path: Path) -> None:
    authority = TokenAuthority(tmp_path)
    analyst = Analyst("a.jansen", "vt-utrecht", AnalystRole.TRIAGE, VtRegion.VT09)
    # Expiries are whole seconds: expired 6 to 7 s ago.
    expired = authority.issue(analyst, Audience.QUERY, -timedelta(seconds=6))
    with pytest.raises(InvalidCredentialError, match="token expired"):
        authority.verify(expired, Audience.QUERY)


def test_a_token_that_just_expired_is_accepted_within_the_leeway(tmp_path: Path) -> None:
    authority = TokenAuthority(tmp_path)
    just_expired = authority.issue(PUBLISHER, Audience.INGEST, -timedelta(seconds=1))
    assert authority.verify(just_expired, Audience.INGEST) == PUBLISHER  # 1 to 2 s ago
