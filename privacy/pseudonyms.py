"""Keyed, versioned, domain-separated pseudonyms.

A pseudonym is HMAC-SHA-256 over the normalised identifier, under a key derived (HKDF) from the
pseudonymisation key of a given version for one domain. Without the key nobody can recompute or
reverse a pseudonym (a BSN has only 10^9 values, so an unkeyed hash would be reversible by
enumeration). Different domains give unlinkable pseudonyms for the same identifier.

Each external recipient of an extract is a domain of its own. The radar holds no identifier in
clear outside ingest, so a recipient pseudonym is made from the internal pseudonym, by the same
keyed hash under the recipient's domain key: two recipients' extracts share no pseudonym, and
neither can be joined with the radar's own pseudonyms without the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import TypeAdapter

from contracts.pseudonyms import (
    HOUSEHOLD_PREFIX,
    LOCAL_PERSON_PREFIX,
    PERSON_PREFIX,
    PLACEMENT_PREFIX,
    RECIPIENT_PREFIX,
    HouseholdPseudonym,
    PersonPseudonym,
    RecipientId,
)
from privacy.addresses import HomeAddress
from privacy.keyfiles import locked, replace_secret_file, write_secret_file

KEY_BYTES = 32
PSEUDONYM_BYTES = 16
_HKDF_INFO = b"signal-radar/pseudonym-domain/"
_HOUSEHOLD = TypeAdapter(HouseholdPseudonym)
_PERSON = TypeAdapter(PersonPseudonym)
_RECIPIENT_ID = TypeAdapter(RecipientId)


@dataclass(frozen=True)
class PseudonymKeyring:
    """All pseudonymisation key versions; new pseudonyms use the current one."""

    current: str
    keys: dict[str, bytes]

    @classmethod
    def load_or_create(cls, path: Path) -> PseudonymKeyring:
        """Loads the keyring file, creating one with a fresh random key on first use."""
        if not path.exists():
            key_id = "k1"
            document = {
                "current": key_id,
                "keys": {key_id: base64.b64encode(os.urandom(KEY_BYTES)).decode()},
            }
            write_secret_file(path, json.dumps(document, indent=2).encode())
        document = json.loads(path.read_text(encoding="utf-8"))
        keys = {key_id: base64.b64decode(value) for key_id, value in document["keys"].items()}
        if document["current"] not in keys or any(len(k) != KEY_BYTES for k in keys.values()):
            raise ValueError(f"pseudonym keyring {path} is malformed")
        return cls(current=document["current"], keys=keys)

    @classmethod
    def rotate(cls, path: Path) -> str:
        """Adds a new key version that makes every pseudonym from now on; the older versions
        stay, so the radar can link a person's old and new pseudonyms (see
        privacy.storage.vault). Returns the new key id."""
        with locked(path):
            keyring = cls.load_or_create(path)
            key_id = f"k{max(_version_number(k) for k in keyring.keys) + 1}"
            keys = {**keyring.keys, key_id: os.urandom(KEY_BYTES)}
            document = {
                "current": key_id,
                "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()},
            }
            replace_secret_file(path, json.dumps(document, indent=2).encode())
        return key_id

    def earlier_versions(self) -> list[str]:
        """The key versions before the current one, newest first."""
        current = _version_number(self.current)
        earlier = [k for k in self.keys if _version_number(k) < current]
        return sorted(earlier, key=_version_number, reverse=True)


@dataclass(frozen=True)
class LocalIdentifier:
    """signal.v2's identifiers that hold only together with their owner: a publisher's own
    reference for a person (owner: the publishing organisation) or a shelter's placement
    reference (owner: the shelter). Pseudonymised and kept in the vault as `canonical()`, so
    two owners' "client 17" are two identifiers."""

    owner: str  # an organisation id: lower-case letters, digits and hyphens, never a '/'
    reference: str

    def canonical(self) -> str:
        return f"{self.owner}/{self.reference}"


def _version_number(key_id: str) -> int:
    match = re.fullmatch(r"k([0-9]+)", key_id)
    if match is None:
        raise ValueError(f"not a pseudonym key id: {key_id!r}")
    return int(match.group(1))


class Pseudonymiser:
    """Turns identifiers into pseudonyms; the identifiers go no further than this object."""

    def __init__(self, keyring: PseudonymKeyring) -> None:
        self._keyring = keyring
        # One keyed HMAC per (domain, key version), copied per pseudonym: keying an HMAC
        # object for every pseudonym cost a third of pseudonymisation (issue 15's profile).
        self._keyed: dict[tuple[str, str], hmac.HMAC] = {}

    @property
    def key_id(self) -> str:
        """The key version new pseudonyms are made with."""
        return self._keyring.current

    def earlier_versions(self) -> list[str]:
        """Key versions before the current one, newest first (for linking after a rotation)."""
        return self._keyring.earlier_versions()

    def household(self, address: HomeAddress, key_id: str | None = None) -> str:
        """The household pseudonym of a home address."""
        return self._pseudonym(HOUSEHOLD_PREFIX, address.canonical(), key_id)

    def person(self, bsn: str, key_id: str | None = None) -> str:
        """The person pseudonym of a (valid) BSN."""
        return self._pseudonym(PERSON_PREFIX, bsn, key_id)

    def local_person(self, reference: LocalIdentifier, key_id: str | None = None) -> str:
        """The pl. pseudonym of a person by a publisher's own reference (signal.v2)."""
        return self._pseudonym(LOCAL_PERSON_PREFIX, reference.canonical(), key_id)

    def placement(self, placement: LocalIdentifier, key_id: str | None = None) -> str:
        """The hs. pseudonym of a household by a shelter's placement reference (signal.v2)."""
        return self._pseudonym(PLACEMENT_PREFIX, placement.canonical(), key_id)

    def rekeyed(self, pseudonym: str, identifier: str, key_id: str) -> str:
        """The pseudonym of the same domain as `pseudonym` for the identifier (as the vault
        holds it: a BSN, or a canonical address or local identifier) under another key
        version: how the vault finds who a new pseudonym was before a key rotation."""
        return self._pseudonym(pseudonym.split(".")[0], identifier, key_id)

    def for_recipient(self, recipient: str, key_id: str | None = None) -> RecipientPseudonyms:
        """The pseudonyms of one external recipient's domain (see the module docstring)."""
        return RecipientPseudonyms(self, _RECIPIENT_ID.validate_python(recipient), key_id)

    def _pseudonym(self, domain: str, identifier: str, key_id: str | None) -> str:
        version = key_id or self._keyring.current
        keyed = self._keyed.get((domain, version))
        if keyed is None:
            keyed = hmac.new(self._domain_key(domain, version), digestmod=hashlib.sha256)
            self._keyed[(domain, version)] = keyed  # a race only makes an equal one twice
        mac = keyed.copy()
        mac.update(identifier.encode("utf-8"))
        return f"{domain}.{version}.{mac.digest()[:PSEUDONYM_BYTES].hex()}"

    def _domain_key(self, domain: str, version: str) -> bytes:
        """The domain's HMAC key under one key version (HKDF-SHA-256 of the version's key)."""
        return HKDF(
            algorithm=hashes.SHA256(),
            length=KEY_BYTES,
            salt=None,
            info=_HKDF_INFO + domain.encode(),
        ).derive(self._keyring.keys[version])


class RecipientPseudonyms:
    """One recipient's pseudonyms, ``x.<recipient>.<key id>.<hex>``, over internal pseudonyms.

    Only well-formed internal pseudonyms are taken, so an identifier that slipped through can
    never be hashed into an extract (where, as a BSN, it could be found by enumeration)."""

    def __init__(self, pseudonymiser: Pseudonymiser, recipient: str, key_id: str | None) -> None:
        self._pseudonymiser = pseudonymiser
        self._domain = f"{RECIPIENT_PREFIX}.{recipient}"
        self.key_id = key_id or pseudonymiser.key_id

    def household(self, internal: str) -> str:
        """The recipient's pseudonym of an internal household pseudonym."""
        return self._recipient_pseudonym(_HOUSEHOLD.validate_python(internal))

    def person(self, internal: str) -> str:
        """The recipient's pseudonym of an internal person pseudonym."""
        return self._recipient_pseudonym(_PERSON.validate_python(internal))

    def _recipient_pseudonym(self, internal: str) -> str:
        # The internal pseudonym's own prefix (hh/p) is hashed with it, so a household and a
        # person never share a recipient pseudonym.
        return self._pseudonymiser._pseudonym(self._domain, internal, self.key_id)


class PseudonymKeyFile:
    """The keyring file as a running service sees it: reread when a rotation changed it, so
    every ingest process moves to the new key version without a restart."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._seen: tuple[int, int] | None = None
        self._current = self._reload()

    def pseudonymiser(self) -> Pseudonymiser:
        """The pseudonymiser of the keyring as it is now; use one for a whole request."""
        if _identity_of(self._path) != self._seen:
            self._current = self._reload()
        return self._current

    def _reload(self) -> Pseudonymiser:
        with self._lock:
            keyring = PseudonymKeyring.load_or_create(self._path)
            self._seen = _identity_of(self._path)
            return Pseudonymiser(keyring)


def _identity_of(path: Path) -> tuple[int, int]:
    """Changes whenever the file is replaced (a rotation writes a new file, a new inode)."""
    status = path.stat()
    return status.st_ino, status.st_mtime_ns
