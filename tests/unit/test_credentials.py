"""Credentials (Ed25519 JWTs) and the policy decision point's role x purpose matrix."""

from __future__ import annotations

import base64
import json
import stat
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contracts.regions import VtRegion
from contracts.vocabulary import Sector
from privacy.actors import Analyst, AnalystRole, Publisher
from privacy.credentials import (
    ALGORITHM,
    ISSUER,
    Audience,
    InvalidCredentialError,
    TokenAuthority,
    key_id_of,
    token_id,
)
from privacy.policy import AccessRequest, PolicyDecisionPoint
from privacy.purposes import PurposeRegister, Resource

HOUR = timedelta(hours=1)
PUBLISHER = Publisher("sys-politie", "politie-midden", Sector.POLICE)
ANALYST = Analyst("a.jansen", "vt-utrecht", AnalystRole.TRIAGE, VtRegion.VT09)
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signing_key(keys_dir: Path) -> Ed25519PrivateKey:
    (path,) = sorted(keys_dir.glob("token-signing-*.pem"))
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def _claims(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "sys-politie",
        "aud": str(Audience.INGEST),
        "iat": now,
        "nbf": now,
        "exp": now + HOUR,
        "jti": str(uuid.uuid4()),
        "org": "politie-midden",
        "kind": "publisher",
        "sector": "police",
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


# --- tokens -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "audience"), [(PUBLISHER, Audience.INGEST), (ANALYST, Audience.QUERY)]
)
def test_issue_verify_round_trip(
    tmp_path: Path, actor: Publisher | Analyst, audience: Audience
) -> None:
    authority = TokenAuthority(tmp_path / "keys")
    token = authority.issue(actor, audience, HOUR)
    assert authority.verify(token, audience) == actor
    # Another authority instance on the same key directory (another service) verifies it too.
    assert TokenAuthority(tmp_path / "keys").verify(token, audience) == actor


def test_token_carries_standard_claims(tmp_path: Path) -> None:
    authority = TokenAuthority(tmp_path / "keys")
    token = authority.issue(ANALYST, Audience.QUERY, HOUR)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == ALGORITHM
    assert header["kid"] == key_id_of(_signing_key(tmp_path / "keys").public_key())
    assert claims["iss"] == ISSUER
    assert claims["aud"] == str(Audience.QUERY)
    assert claims["sub"] == ANALYST.subject
    assert claims["exp"] - claims["iat"] == 3600
    assert token_id(token) == claims["jti"]
    assert token_id(authority.issue(ANALYST, Audience.QUERY, HOUR)) != claims["jti"]


def test_token_for_another_audience_refused(tmp_path: Path) -> None:
    authority = TokenAuthority(tmp_path / "keys")
    ingest_token = authority.issue(PUBLISHER, Audience.INGEST, HOUR)
    with pytest.raises(InvalidCredentialError, match="another audience"):
        authority.verify(ingest_token, Audience.QUERY)
    query_token = authority.issue(ANALYST, Audience.QUERY, HOUR)
    with pytest.raises(InvalidCredentialError, match="another audience"):
        authority.verify(query_token, Audience.INGEST)


def test_expired_token_refused(tmp_path: Path) -> None:
    authority = TokenAuthority(tmp_path / "keys")
    token = authority.issue(PUBLISHER, Audience.INGEST, timedelta(seconds=-120))
    with pytest.raises(InvalidCredentialError, match="expired"):
        authority.verify(token, Audience.INGEST)


def test_token_of_another_authority_refused(tmp_path: Path) -> None:
    ours = TokenAuthority(tmp_path / "ours")
    theirs = TokenAuthority(tmp_path / "theirs")
    token = theirs.issue(PUBLISHER, Audience.INGEST, HOUR)
    with pytest.raises(InvalidCredentialError):
        ours.verify(token, Audience.INGEST)


def test_forged_token_naming_our_key_id_refused(tmp_path: Path) -> None:
    ours = TokenAuthority(tmp_path / "ours")
    our_kid = key_id_of(_signing_key(tmp_path / "ours").public_key())
    forged = jwt.encode(
        _claims(), Ed25519PrivateKey.generate(), algorithm=ALGORITHM, headers={"kid": our_kid}
    )
    with pytest.raises(InvalidCredentialError, match="bad signature"):
        ours.verify(forged, Audience.INGEST)


def test_tampered_payload_refused(tmp_path: Path) -> None:
    authority = TokenAuthority(tmp_path / "keys")
    token = authority.issue(PUBLISHER, Audience.INGEST, HOUR)
    header, payload, signature = token.split(".")
    claims = json.loads(_unb64(payload))
    claims["sector"] = "veilig_thuis"  # claim to speak for another sector
    tampered = ".".join([header, _b64(json.dumps(claims).encode()), signature])
    with pytest.raises(InvalidCredentialError):
        authority.verify(tampered, Audience.INGEST)


def test_tampered_signature_refused(tmp_path: Path) -> None:
    authority = TokenAuthority(tmp_path / "keys")
    header, payload, signature = authority.issue(PUBLISHER, Audience.INGEST, HOUR).split(".")
    raw = bytearray(_unb64(signature))
    raw[0] ^= 0x01
    with pytest.raises(InvalidCredentialError):
        authority.verify(".".join([header, payload, _b64(bytes(raw))]), Audience.INGEST)


def test_unsigned_token_refused(tmp_path: Path) -> None:
    authority = TokenAuthority(tmp_path / "keys")
    kid = key_id_of(_signing_key(tmp_path / "keys").public_key())
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": kid}).encode())
    claims = {
        key: int(value.timestamp()) if isinstance(value, datetime) else value
        for key, value in _claims().items()
    }
    unsigned = f"{header}.{_b64(json.dumps(claims).encode())}."
    with pytest.raises(InvalidCredentialError):
        authority.verify(unsigned, Audience.INGEST)


@pytest.mark.parametrize(
    "garbage", ["", "garbage", "a.b.c", "eyJhbGciOiJFZERTQSJ9..", "Bearer x.y.z", "....."]
)
def test_garbage_refused(tmp_path: Path, garbage: str) -> None:
    authority = TokenAuthority(tmp_path / "keys")
    with pytest.raises(InvalidCredentialError):
        authority.verify(garbage, Audience.INGEST)


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "administrator"},
        {"kind": None},
        {"org": None},
        {"sector": "bakery"},
        {"kind": "analyst", "role": "superuser", "region": "VT09"},
        {"kind": "analyst", "role": "triage", "region": "VT99"},
        {"kind": "analyst", "role": "triage"},
        {"jti": None},
        {"iss": "someone-else"},
    ],
)
def test_validly_signed_but_malformed_claims_refused(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    authority = TokenAuthority(tmp_path / "keys")
    key = _signing_key(tmp_path / "keys")
    token = jwt.encode(
        _claims(**changes),
        key,
        algorithm=ALGORITHM,
        headers={"kid": key_id_of(key.public_key())},
    )
    with pytest.raises(InvalidCredentialError):
        authority.verify(token, Audience.INGEST)


def test_revoked_token_refused(tmp_path: Path) -> None:
    revoked: set[str] = set()
    authority = TokenAuthority(tmp_path / "keys", is_revoked=revoked.__contains__)
    token = authority.issue(PUBLISHER, Audience.INGEST, HOUR)
    assert authority.verify(token, Audience.INGEST) == PUBLISHER
    revoked.add(token_id(token))
    with pytest.raises(InvalidCredentialError, match="revoked"):
        authority.verify(token, Audience.INGEST)


def test_rotation_signs_with_new_key_and_still_verifies_old_tokens(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    before = TokenAuthority(keys_dir)
    old_token = before.issue(PUBLISHER, Audience.INGEST, HOUR)
    old_kid = jwt.get_unverified_header(old_token)["kid"]

    new_kid = TokenAuthority.rotate(keys_dir)
    assert new_kid != old_kid
    after = TokenAuthority(keys_dir)
    new_token = after.issue(ANALYST, Audience.QUERY, HOUR)
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    assert after.verify(old_token, Audience.INGEST) == PUBLISHER
    assert after.verify(new_token, Audience.QUERY) == ANALYST
    # An authority loaded before the rotation does not know the new key.
    with pytest.raises(InvalidCredentialError, match="unknown signing key"):
        before.verify(new_token, Audience.QUERY)


def test_key_files_are_owner_only(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    TokenAuthority(keys_dir)
    TokenAuthority.rotate(keys_dir)
    paths = sorted(keys_dir.glob("token-signing-*.pem"))
    assert len(paths) == 2
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys_dir.stat().st_mode) & 0o077 == 0


def test_existing_key_is_reused(tmp_path: Path) -> None:
    keys_dir = tmp_path / "keys"
    TokenAuthority(keys_dir)
    TokenAuthority(keys_dir)
    assert len(list(keys_dir.glob("token-signing-*.pem"))) == 1


# --- policy decision point ----------------------------------------------------------------------


def _request(actor: Publisher | Analyst, purpose: str | None, resource: Resource) -> AccessRequest:
    return AccessRequest(actor=actor, resource=resource, purpose=purpose)


def test_missing_purpose_denied() -> None:
    pdp = PolicyDecisionPoint(PurposeRegister.load())
    for purpose in (None, ""):
        decision = pdp.decide(_request(ANALYST, purpose, Resource.HOUSEHOLD_TIMELINE), NOW)
        assert not decision.permitted
        assert decision.reason == "no purpose stated"


def test_unknown_purpose_denied() -> None:
    pdp = PolicyDecisionPoint(PurposeRegister.load())
    decision = pdp.decide(_request(ANALYST, "curiosity", Resource.HOUSEHOLD_TIMELINE), NOW)
    assert not decision.permitted
    assert decision.reason == "unknown purpose"


def test_publisher_denied() -> None:
    register = PurposeRegister.load()
    pdp = PolicyDecisionPoint(register)
    for name, purpose in register.purposes.items():
        for resource in purpose.resources:
            decision = pdp.decide(_request(PUBLISHER, name, resource), NOW)
            assert not decision.permitted
            assert "publisher" in decision.reason


def test_resource_outside_purpose_denied() -> None:
    register = PurposeRegister.load()
    pdp = PolicyDecisionPoint(register)
    for name, purpose in register.purposes.items():
        for role in purpose.roles:
            actor = Analyst("x", "vt-utrecht", role, VtRegion.VT09)
            for resource in set(Resource) - purpose.resources:
                assert not pdp.decide(_request(actor, name, resource), NOW).permitted


def test_role_by_purpose_matrix() -> None:
    register = PurposeRegister.load()
    pdp = PolicyDecisionPoint(register)
    checked = 0
    for name, purpose in register.purposes.items():
        for role in AnalystRole:
            actor = Analyst(f"user-{role}", "vt-utrecht", role, VtRegion.VT09)
            for resource in purpose.resources:
                decision = pdp.decide(_request(actor, name, resource), NOW)
                assert decision.permitted == (role in purpose.roles), (name, role, resource)
                assert decision.register_version == register.version
                if decision.permitted:
                    assert decision.purpose == name
                    assert decision.obligations is not None
                else:
                    assert f"role '{role}' may not use purpose '{name}'" == decision.reason
                checked += 1
    assert checked >= len(register.purposes) * len(AnalystRole)
