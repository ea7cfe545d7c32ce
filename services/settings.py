"""Configuration from the environment (RADAR_*), with embedded defaults for `make run`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.signal_v1 import SIGNAL_TOPIC_DEFAULT
from privacy.purposes import DEFAULT_REGISTER
from privacy.recipients import DEFAULT_RECIPIENTS
from privacy.retention import DEFAULT_POLICY

METRICS_PORT_STRIDE = 10
"""The n-th aggregator (ingest process) serves metrics at its base port + 10 n: 9401, 9411, ..."""


def member_name(kind: str, index: int) -> str:
    """`aggregator`, `aggregator-2`, ...: the first keeps the plain name (logs, journal lines)."""
    return kind if index == 0 else f"{kind}-{index + 1}"


class Settings(BaseSettings):
    """Every setting a radar process reads; each is an environment variable RADAR_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="RADAR_", frozen=True)

    data_dir: Path = Field(default=Path(".local"), description="Keys, SQLite files and logs.")
    database_url: str | None = Field(
        default=None, description="sqlite:///path or postgresql://user:pw@host:port/db"
    )
    vault_url: str | None = Field(
        default=None,
        description="The identity vault's own database (sqlite:///path or postgresql://...), "
        "apart from the event store; defaults to an SQLite file in the data directory.",
    )
    kafka_bootstrap: str = Field(
        default="127.0.0.1:9092",
        description="The Kafka brokers to bootstrap from: host:port, or several separated by "
        "commas (a cluster: any one that answers tells the client where the others are).",
    )
    signals_topic: str = SIGNAL_TOPIC_DEFAULT
    signals_partitions: int = Field(default=6, ge=1)
    signals_retention_days: int = Field(default=30, ge=1)
    signals_replication_factor: int = Field(
        default=1,
        ge=1,
        description="Copies of each partition of the radar's topics, set when a topic is "
        "created; 1 on the single local broker, 3 on a cluster.",
    )
    signals_min_insync_replicas: int = Field(
        default=1,
        ge=1,
        description="Copies that must have a record before the broker acknowledges it (acks="
        "all): 2 of 3 on a cluster, so a 2xx survives the loss of any one broker. Ingest is not "
        "ready (503) while a partition has fewer in sync.",
    )
    consumer_group: str = "radar-aggregator"
    ingest_port: int = 8081
    query_port: int = 8082
    aggregator_metrics_port: int = Field(
        default=9401, ge=0, le=65535, description="The aggregator's /metrics port; 0: none."
    )
    projector_metrics_port: int = Field(
        default=9402, ge=0, le=65535, description="The projector's /metrics port; 0: none."
    )
    ingest_metrics_port: int = Field(
        default=9404,
        ge=0,
        le=65535,
        description="Each ingest process's own /metrics port (the API port's /metrics answers "
        "for whichever process took the connection); 0: none.",
    )
    aggregators: int = Field(
        default=1,
        ge=1,
        le=64,
        description="`radar run`: aggregator processes, one consumer group (at most one per "
        "partition does work; the others stand by).",
    )
    ingest_processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="`radar run`: ingest processes sharing RADAR_INGEST_PORT (SO_REUSEPORT: "
        "the kernel spreads connections over them).",
    )
    query_processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="`radar run`: query API processes (on one port, or each on its own: "
        "RADAR_API_PORTS).",
    )
    projectors: int = Field(
        default=1,
        ge=1,
        le=8,
        description="`radar run`: projector processes. Each read model's position moves "
        "optimistically in the transaction that writes its rows, so copies never apply an "
        "event twice; a second copy is a standby that takes over at once.",
    )
    api_ports: Literal["shared", "own"] = Field(
        default="shared",
        description="shared: the ingest (query) processes share RADAR_INGEST_PORT "
        "(RADAR_QUERY_PORT) through SO_REUSEPORT; own: the n-th binds the port + 10 n, each "
        "health-checked on its own behind a reverse proxy (deploy/cluster).",
    )
    process_index: int = Field(
        default=0,
        ge=0,
        description="Set by `radar run`: which of several aggregators or ingest processes this "
        "is (0 the first); moves its metrics port by METRICS_PORT_STRIDE per index.",
    )
    retention_metrics_port: int = Field(
        default=9403,
        ge=0,
        le=65535,
        description="`radar retention enforce --every-hours`'s /metrics port; 0: none.",
    )
    host: str = "127.0.0.1"
    max_batch_signals: int = Field(default=1000, ge=1)
    max_body_bytes: int = Field(
        default=2 * 1024 * 1024, ge=1024, description="Ingest: a batch of 1,000 signals fits."
    )
    query_max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Query: its bodies are a few hundred bytes."
    )
    ingest_rate_per_organisation: float = Field(
        default=2000.0,
        ge=0,
        description="Ingest: signals per second each publishing organisation may send, "
        "sustained (a batch of 50 counts 50); over it, 429 with Retry-After. 0 turns the limit "
        "off. The default lets `make run`, the load tests and the benchmarks through on two "
        "cores; a deployment sets it from its publishers' volumes.",
    )
    ingest_burst_per_organisation: int = Field(
        default=10_000,
        ge=0,
        description="Ingest: signals an organisation may send at once after a quiet spell (the "
        "token bucket's size); at least RADAR_MAX_BATCH_SIGNALS, so a full batch can pass. 0 "
        "turns the limit off.",
    )
    allow_plain_identifiers: bool = Field(
        default=True,
        description="Ingest: accept a BSN or address in clear. True suits development (make run, "
        "the README's curl examples); set false wherever real identifiers flow, so that only "
        "identifiers sealed to the radar's key are taken.",
    )
    ingest_tls_cert: Path | None = Field(
        default=None,
        description="Ingest: serve HTTPS with this certificate (PEM, the leaf first, then any "
        "intermediates); unset, ingest speaks plain HTTP (development, or behind a proxy).",
    )
    ingest_tls_key: Path | None = Field(
        default=None, description="Ingest: the private key of RADAR_INGEST_TLS_CERT (PEM)."
    )
    ingest_client_ca: Path | None = Field(
        default=None,
        description="Ingest: mutual TLS. Every publisher connects with a client certificate "
        "signed by this CA (PEM) and its token must be bound to that certificate (RFC 8705); "
        "needs RADAR_INGEST_TLS_CERT.",
    )
    kafka_timeout_seconds: float = Field(default=10.0, gt=0)
    aggregator_batch_records: int = Field(default=1000, ge=1)
    projector_batch_events: int = Field(default=1000, ge=1)
    projector_idle_seconds: float = Field(default=0.05, gt=0)
    log_level: str = "INFO"
    retention_policy: Path = Field(
        default=DEFAULT_POLICY, description="The retention policy file (TOML)."
    )
    purpose_register: Path = Field(
        default=DEFAULT_REGISTER, description="The purpose register file (TOML)."
    )
    recipient_register: Path = Field(
        default=DEFAULT_RECIPIENTS,
        description="The register of external recipients of extracts (TOML).",
    )

    pages_dev_sign_in: bool = Field(
        default=False,
        description="Pages: the development sign-in that picks a synthetic user (on in make "
        "run). "
        "Refused at start together with production settings (RADAR_ALLOW_PLAIN_IDENTIFIERS="
        "false or RADAR_PAGES_BEHIND_TLS=true): a deployment signs people in otherwise.",
    )
    pages_behind_tls: bool = Field(
        default=False,
        description="Pages: served to people over HTTPS (directly or behind the proxy): the "
        "session cookie is then Secure.",
    )
    pages_idle_minutes: int = Field(
        default=30, ge=1, le=720, description="Pages: a session unused this long is ended."
    )

    pages_oidc_issuer: str | None = Field(
        default=None,
        description="Pages: the OpenID Connect provider people sign in with (its issuer URL); "
        "unset, no OIDC sign-in.",
    )
    pages_oidc_client_id: str | None = Field(
        default=None, description="Pages: the radar's client id."
    )
    pages_oidc_client_secret_file: Path | None = Field(
        default=None, description="Pages: a file holding the client secret (never in the env)."
    )
    pages_oidc_redirect_url: str | None = Field(
        default=None,
        description="Pages: where the provider sends people back: "
        "https://<host>/pages/sign-in/oidc/callback, as registered with the provider.",
    )
    referral_recipients: tuple[str, ...] = Field(
        default=("om-midden-nederland", "politie-midden-nederland"),
        description="Referrals (issue 17): the organisation ids of the OM offices and police "
        "units Veilig Thuis may refer a suspected offence to (a JSON list); the default is "
        "the development pair of Utrecht's, a deployment lists its own.",
    )

    webhooks_allow_loopback: bool = Field(
        default=False,
        description="Webhooks: accept a receiver on this machine (127.0.0.1, ::1, localhost). "
        "Off by default, so that no registration can make the radar call its own host's "
        "services; on for tests and make run.",
    )
    webhooks_ca_bundle: Path | None = Field(
        default=None,
        description="Webhooks: the CA certificates (PEM) receivers' TLS certificates are "
        "verified against; unset, the system's trusted CAs.",
    )
    webhooks_max_attempts: int = Field(
        default=10, ge=1, description="Webhooks: failed attempts before an item is dead."
    )
    webhooks_max_age_seconds: float = Field(
        default=24 * 3600.0,
        gt=0,
        description="Webhooks: an item still failing this long after its first failed attempt "
        "is dead, however few attempts were made.",
    )
    webhooks_backoff_seconds: float = Field(
        default=1.0, gt=0, description="Webhooks: the wait after the first failure; doubles."
    )
    webhooks_backoff_cap_seconds: float = Field(
        default=300.0, gt=0, description="Webhooks: the longest wait between two attempts."
    )
    webhooks_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Webhooks: how long one POST may take."
    )
    deliverer_idle_seconds: float = Field(
        default=0.5, gt=0, description="`radar deliver`: the pause when nothing is due."
    )

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        """Half an OIDC configuration would fail at the first sign-in: refuse to start."""
        parts = (
            self.pages_oidc_issuer,
            self.pages_oidc_client_id,
            self.pages_oidc_client_secret_file,
            self.pages_oidc_redirect_url,
        )
        if any(parts) and not all(parts):
            raise ValueError(
                "RADAR_PAGES_OIDC_ISSUER, _CLIENT_ID, _CLIENT_SECRET_FILE and _REDIRECT_URL go "
                "together: set all four or none"
            )
        return self

    @model_validator(mode="after")
    def _no_dev_sign_in_in_production(self) -> Settings:
        """Anyone could sign in as anyone with the development sign-in: a process with
        production settings refuses to start rather than offer it."""
        production = not self.allow_plain_identifiers or self.pages_behind_tls
        if self.pages_dev_sign_in and production:
            raise ValueError(
                "RADAR_PAGES_DEV_SIGN_IN is on with production settings "
                "(RADAR_ALLOW_PLAIN_IDENTIFIERS=false or RADAR_PAGES_BEHIND_TLS=true): set "
                "RADAR_PAGES_DEV_SIGN_IN=false"
            )
        return self

    @model_validator(mode="after")
    def _a_full_batch_fits_the_burst(self) -> Settings:
        """A batch larger than the burst could never be admitted, however long it waited."""
        limited = self.ingest_rate_per_organisation > 0 and self.ingest_burst_per_organisation > 0
        if limited and self.ingest_burst_per_organisation < self.max_batch_signals:
            raise ValueError(
                f"RADAR_INGEST_BURST_PER_ORGANISATION={self.ingest_burst_per_organisation} is "
                f"below RADAR_MAX_BATCH_SIGNALS={self.max_batch_signals}: a full batch could "
                "never pass (0 turns the limit off)"
            )
        return self

    @model_validator(mode="after")
    def _tls_complete(self) -> Settings:
        """Mutual TLS without a server certificate would be served as plain HTTP, silently
        without the protection it was configured for: refuse to start instead."""
        if self.ingest_client_ca is not None and self.ingest_tls_cert is None:
            raise ValueError("RADAR_INGEST_CLIENT_CA needs RADAR_INGEST_TLS_CERT (and its key)")
        if self.ingest_tls_key is not None and self.ingest_tls_cert is None:
            raise ValueError("RADAR_INGEST_TLS_KEY needs RADAR_INGEST_TLS_CERT")
        return self

    @model_validator(mode="after")
    def _min_insync_within_replicas(self) -> Settings:
        if self.signals_min_insync_replicas > self.signals_replication_factor:
            raise ValueError(
                "RADAR_SIGNALS_MIN_INSYNC_REPLICAS exceeds RADAR_SIGNALS_REPLICATION_FACTOR: "
                "no write could ever be acknowledged"
            )
        return self

    @model_validator(mode="after")
    def _metrics_ports_apart(self) -> Settings:
        """Two processes on one metrics port: the second would run without metrics, silently."""
        ports = [
            port
            for name in ("aggregator", "ingest", "projector", "retention")
            for port in self.metrics_ports(name)
        ]
        taken = [port for port in ports if port != 0]
        if len(taken) != len(set(taken)):
            raise ValueError(
                f"metrics ports overlap ({sorted(taken)}): with RADAR_AGGREGATORS or "
                "RADAR_INGEST_PROCESSES above 1 each process adds "
                f"{METRICS_PORT_STRIDE} to its base port; move one of the bases"
            )
        return self

    def metrics_ports(self, process: str) -> list[int]:
        """The metrics port of each process of this kind `radar run` starts (0: none)."""
        base = int(getattr(self, f"{process}_metrics_port"))
        count = {
            "aggregator": self.aggregators,
            "ingest": self.ingest_processes,
            "projector": self.projectors,
        }.get(process, 1)
        return [base + METRICS_PORT_STRIDE * index if base else 0 for index in range(count)]

    def ports_of(self, process: str) -> list[int]:
        """The port of each ingest or query process `radar run` starts."""
        base = int(getattr(self, f"{process}_port"))
        count = int(getattr(self, f"{process}_processes"))
        if self.api_ports == "shared":
            return [base] * count
        return [base + METRICS_PORT_STRIDE * index for index in range(count)]

    def own_api_port(self, process: str) -> int:
        """This ingest or query process's port: the base, or moved by its index (own ports)."""
        base = int(getattr(self, f"{process}_port"))
        return (
            base if self.api_ports == "shared" else base + METRICS_PORT_STRIDE * self.process_index
        )

    def shares_api_port(self, process: str) -> bool:
        """Whether this process binds its port with SO_REUSEPORT (several on one port)."""
        return self.api_ports == "shared" and int(getattr(self, f"{process}_processes")) > 1

    def own_metrics_port(self, process: str) -> int:
        """This process's metrics port (0: none): its kind's base, moved by its index."""
        base = int(getattr(self, f"{process}_metrics_port"))
        return base + METRICS_PORT_STRIDE * self.process_index if base else 0

    @property
    def ingest_mutual_tls(self) -> bool:
        """Whether ingest requires client certificates and certificate-bound tokens."""
        return self.ingest_client_ca is not None

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to an SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'radar.db').resolve()}"

    @property
    def resolved_vault_url(self) -> str:
        """The identity vault's database URL (a separate SQLite file by default)."""
        return self.vault_url or f"sqlite:///{(self.data_dir / 'vault.db').resolve()}"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def pseudonym_keyring_path(self) -> Path:
        return self.keys_dir / "pseudonym-keys.json"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"
