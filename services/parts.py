"""What one process shares (`Parts`): the engine, the event store, the keys, the vault and the
token authority, each built on first use and then kept; and the few builders command-line tools
use on their own. The composition root (services/bootstrap.py) builds the processes from it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cached_property

from sqlalchemy import Engine

from privacy.actors import Analyst
from privacy.addresses import HomeAddress
from privacy.credentials import Audience, TokenAuthority
from privacy.pseudonyms import PseudonymKeyFile
from privacy.storage.access_log_refusals import AuthRefusalLog
from privacy.storage.revocations import RevocationList
from privacy.storage.sealed_rows import RowSealer
from privacy.storage.vault import IdentityVault
from services.database import Database
from services.http import actor_dependency
from services.ledger.store import EncryptedSignalLedger, open_ledger
from services.settings import Settings

ANALYSTS_ONLY = "publishers cannot query the radar"


class Parts:
    """What one process shares, each part built on first use and then kept."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.database = Database.of(settings)
        self._opening = threading.Lock()
        self._engine: Engine | None = None
        self._ledger: EncryptedSignalLedger | None = None

    @property
    def engine(self) -> Engine:
        """The one engine on the radar database."""
        with self._opening:
            if self._engine is None:
                self._engine = self.database.engine()
            return self._engine

    @property
    def ledger(self) -> EncryptedSignalLedger:
        """The event store; the query API opens it at its first step, not at start, so that
        it never races the aggregator to create the tables when everything starts at once."""
        engine = self.engine
        with self._opening:
            if self._ledger is None:
                with self.database.schema_lock():
                    self._ledger = open_ledger(self.database, engine)
            return self._ledger

    @cached_property
    def row_sealer(self) -> RowSealer:
        """Lookup digests and household-keyed sealing for the read models and receipts."""
        return self.database.row_sealer(self.engine)

    @cached_property
    def vault(self) -> IdentityVault:
        return identity_vault(self.settings)

    @cached_property
    def pseudonyms(self) -> PseudonymKeyFile:
        return pseudonyms(self.settings)

    @cached_property
    def token_authority(self) -> TokenAuthority:
        """Verifies tokens with the signing keys and the shared revocation list; with mutual
        TLS on ingest, a publisher's token only with the certificate it is bound to."""
        with self.database.schema_lock():
            revocations = RevocationList(self.engine)
        bound = frozenset({Audience.INGEST}) if self.settings.ingest_mutual_tls else frozenset()
        return TokenAuthority(self.settings.keys_dir, revocations.is_revoked, bound)

    def analyst(self, refusals: AuthRefusalLog) -> Callable[..., Analyst]:
        """The query API's authentication: an analyst's token, or 401/403; every 401 goes to
        `refusals` (the access log, rate-limited)."""
        return actor_dependency(
            self.token_authority, Audience.QUERY, Analyst, ANALYSTS_ONLY, refusals
        )

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
        if self._engine is not None:
            self._engine.dispose()


def database(settings: Settings) -> Database:
    return Database.of(settings)


def pseudonyms(settings: Settings) -> PseudonymKeyFile:
    """The pseudonym keyring, reread after a rotation."""
    return PseudonymKeyFile(settings.pseudonym_keyring_path)


def identity_vault(settings: Settings) -> IdentityVault:
    """The identity vault in its own database, its data keys wrapped by the KEK file."""
    vault_db = Database(settings.resolved_vault_url, settings.keys_dir)
    with vault_db.schema_lock():
        return IdentityVault(
            vault_db.engine(), vault_db.key_encryption_key(), vault_db.lookup_digests()
        )


def token_authority(settings: Settings) -> TokenAuthority:
    """A token authority for a command-line tool (a process serves with its Parts' own)."""
    return Parts(settings).token_authority


def household_of(keys: PseudonymKeyFile, vault: IdentityVault) -> Callable[[HomeAddress], str]:
    """Finds the household pseudonym of an address, as the radar first knew it."""

    def first_known(address: HomeAddress) -> str:
        return vault.household_pseudonym(address, keys.pseudonymiser())

    return first_known
