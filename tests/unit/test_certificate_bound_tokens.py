"""Certificate-bound publisher tokens (RFC 8705, issue 22): `radar admin token --client-cert`
puts the certificate's SHA-256 thumbprint in the token's `cnf`, and an audience served with
mutual TLS accepts the token only with that certificate. Without mutual TLS nothing changes."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from contracts.vocabulary import Sector
from privacy.actors import Publisher
from privacy.credentials import NOT_BOUND, Audience, InvalidCredentialError, TokenAuthority
from services.cli import app
from services.settings import Settings
from tests.support.local_ca import LocalCa

HOUR = timedelta(hours=1)
POLICE = Publisher("sys-politie", "politie-utrecht", Sector.POLICE)
MINT = ["admin", "token", "publisher", "--subject", "sys-politie"]
MINT += ["--organisation", "politie-utrecht", "--sector", "police"]


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LocalCa:
    return LocalCa(tmp_path_factory.mktemp("pki"), "radar-publishers")


def _mint(tmp_path: Path, *arguments: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app, [*MINT, *arguments], env={"RADAR_DATA_DIR": str(tmp_path / "data")}
    )
    return result.exit_code, result.stdout, result.stderr


def _thumbprint(der: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def test_the_minted_token_names_the_certificate_by_its_sha256_thumbprint(
    tmp_path: Path, ca: LocalCa
) -> None:
    police = ca.client("politie-utrecht")
    der_file = tmp_path / "politie.der"
    der_file.write_bytes(police.der())
    minted = [_mint(tmp_path, "--client-cert", str(path)) for path in (police.cert, der_file)]
    for exit_code, printed, _ in minted:
        assert exit_code == 0
        claims = jwt.decode(printed.strip(), options={"verify_signature": False})
        assert claims["cnf"] == {"x5t#S256": _thumbprint(police.der())}  # PEM or DER alike
    exit_code, printed, _ = _mint(tmp_path)
    assert exit_code == 0
    assert "cnf" not in jwt.decode(printed.strip(), options={"verify_signature": False})


def test_with_mutual_tls_a_token_is_taken_only_with_its_own_certificate(
    tmp_path: Path, ca: LocalCa
) -> None:
    police, school = ca.client("politie-utrecht").der(), ca.client("school-de-linde").der()
    authority = TokenAuthority(tmp_path / "keys", bound=frozenset({Audience.INGEST}))
    bound = authority.issue(POLICE, Audience.INGEST, HOUR, police)
    unbound = authority.issue(POLICE, Audience.INGEST, HOUR)

    assert authority.verify(bound, Audience.INGEST, police) == POLICE
    for token, certificate, reason in [
        (bound, school, NOT_BOUND),
        (unbound, police, NOT_BOUND),
        (bound, None, "no client certificate"),
    ]:
        with pytest.raises(InvalidCredentialError, match=reason):
            authority.verify(token, Audience.INGEST, certificate)


def test_without_mutual_tls_tokens_work_as_before(tmp_path: Path, ca: LocalCa) -> None:
    police = ca.client("politie-utrecht").der()
    authority = TokenAuthority(tmp_path / "keys")
    for token in (
        authority.issue(POLICE, Audience.INGEST, HOUR),
        authority.issue(POLICE, Audience.INGEST, HOUR, police),
    ):
        assert authority.verify(token, Audience.INGEST) == POLICE


def test_minting_refuses_what_cannot_be_bound_in_one_line(tmp_path: Path, ca: LocalCa) -> None:
    expired = ca.client("politie-oud", age=timedelta(days=2))
    for path, why in [
        (ca.client("politie-utrecht").key, "not an X.509 certificate"),
        (expired.cert, "the certificate expired"),
    ]:
        exit_code, printed, error = _mint(tmp_path, "--client-cert", str(path))
        assert (exit_code, printed) == (2, "")
        assert why in error and "no token was made" in error and error.count("\n") == 1
    analyst = ["admin", "token", "analyst", "--subject", "a.jansen", "--organisation"]
    analyst += ["vt-utrecht", "--role", "triage", "--region", "VT09", "--client-cert", str(ca.cert)]
    refused = CliRunner().invoke(app, analyst, env={"RADAR_DATA_DIR": str(tmp_path / "data")})
    assert refused.exit_code == 2 and "publisher tokens only" in refused.stderr
    assert "eyJ" not in refused.stdout


def test_a_client_ca_without_a_server_certificate_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="RADAR_INGEST_CLIENT_CA needs"):
        Settings(data_dir=tmp_path, ingest_client_ca=tmp_path / "ca.pem")
