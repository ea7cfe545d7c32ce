"""A certificate authority made in the test (cryptography's x509 builder), standing in for the
PKI that issues organisations their certificates: a server certificate for 127.0.0.1 and client
certificates, written as PEM files the ingest API, curl and `radar admin token` read."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = timedelta(days=1)


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, as PEM files."""

    cert: Path
    key: Path

    def der(self) -> bytes:
        return x509.load_pem_x509_certificate(self.cert.read_bytes()).public_bytes(
            serialization.Encoding.DER
        )


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write(path: Path, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Issued:
    path.parent.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = path.with_suffix(".pem"), path.with_suffix(".key")
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Issued(cert_path, key_path)


class LocalCa:
    """A self-signed CA that issues server and client certificates into one directory."""

    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.name = _name(name, name)
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        certificate = (
            self._builder(self.name, self._key.public_key(), now)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        self._certificate = certificate
        self.issued = _write(directory / f"{name}-ca", certificate, self._key)

    @property
    def cert(self) -> Path:
        return self.issued.cert

    def _builder(
        self, subject: x509.Name, public_key: ec.EllipticCurvePublicKey, now: datetime
    ) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.name)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )

    def _issue(
        self,
        file_name: str,
        subject: x509.Name,
        usage: x509.ObjectIdentifier,
        san: x509.SubjectAlternativeName | None = None,
        age: timedelta = timedelta(0),
    ) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            self._builder(subject, key.public_key(), datetime.now(UTC) - age)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
        )
        if san is not None:
            builder = builder.add_extension(san, critical=False)
        return _write(self.directory / file_name, builder.sign(self._key, hashes.SHA256()), key)

    def server(self, host: str = "127.0.0.1") -> Issued:
        """The ingest API's certificate, for an IP address (what the test connects to)."""
        san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))])
        return self._issue(
            "server", _name(host, "signal-radar"), ExtendedKeyUsageOID.SERVER_AUTH, san=san
        )

    def client(self, organisation: str, age: timedelta = timedelta(0)) -> Issued:
        """An organisation's client certificate (its CN and O are the organisation id), issued
        `age` ago (older than VALIDITY: expired)."""
        return self._issue(
            organisation,
            _name(organisation, organisation),
            ExtendedKeyUsageOID.CLIENT_AUTH,
            age=age,
        )


def client_context(
    trusted_ca: Path, presented: Issued | None, newest: ssl.TLSVersion | None = None
) -> ssl.SSLContext:
    """A publisher's TLS context: trusts only the radar's CA, presents a certificate or none,
    speaks TLS up to `newest` (default: the newest both sides know)."""
    context = ssl.create_default_context(cafile=trusted_ca)
    if newest is not None:
        context.maximum_version = newest
    if presented is not None:
        context.load_cert_chain(presented.cert, presented.key)
    return context
