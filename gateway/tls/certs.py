"""A development CA and a localhost server certificate signed by it (``enclave certs init``).

Private keys are created with mode 0600 from the first byte (``O_CREAT | O_EXCL``), the
folder with 0700 when it is created here, and nothing existing is overwritten unless asked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.errors import ConfigurationError

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
SERVER_CERT = "server.pem"
SERVER_KEY = "server-key.pem"

CA_COMMON_NAME = "Enclave Development CA"
SERVER_COMMON_NAME = "localhost"
SERVER_DNS_NAMES = ("localhost",)
SERVER_IP_ADDRESSES = ("127.0.0.1", "::1")

KEY_MODE = 0o600
CERT_MODE = 0o644
DIR_MODE = 0o700
CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclasses.dataclass(frozen=True, slots=True)
class CertPaths:
    """Where the development CA and server certificate live; ``kept`` when init reused them."""

    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    kept: bool = dataclasses.field(default=False, compare=False)

    @classmethod
    def in_dir(cls, certs_dir: Path) -> CertPaths:
        return cls(
            ca_cert=certs_dir / CA_CERT,
            ca_key=certs_dir / CA_KEY,
            server_cert=certs_dir / SERVER_CERT,
            server_key=certs_dir / SERVER_KEY,
        )

    def files(self) -> tuple[Path, Path, Path, Path]:
        return (self.ca_cert, self.ca_key, self.server_cert, self.server_key)


@dataclasses.dataclass(frozen=True, slots=True)
class IssuedCert:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate


def init_dev_certs(certs_dir: Path, *, force: bool = False, days: int = 397) -> CertPaths:
    """Create the dev CA and server certificate in ``certs_dir``, or keep the existing ones."""
    if days < 1:
        raise ValueError("days must be at least 1")
    paths = CertPaths.in_dir(certs_dir)
    existing = [path for path in paths.files() if os.path.lexists(path)]
    if existing and not force:
        return _keep(paths, existing)
    files = _issue_all(paths, days)
    try:
        ensure_dir(certs_dir)
        for path in existing:
            path.unlink()
        for path, (data, mode) in files.items():
            write_new_file(path, data, mode)
    except OSError as exc:
        raise ConfigurationError(f"{exc.filename or certs_dir}: {exc.strerror}") from exc
    return paths


def _keep(paths: CertPaths, existing: list[Path]) -> CertPaths:
    missing = [path.name for path in paths.files() if path not in existing]
    if missing:
        raise ConfigurationError(
            f"{paths.ca_cert.parent}: incomplete certificate set (missing {', '.join(missing)}); "
            "run `enclave certs init --force` to replace it"
        )
    return dataclasses.replace(paths, kept=True)


def ensure_dir(certs_dir: Path) -> None:
    if not certs_dir.exists():
        certs_dir.parent.mkdir(parents=True, exist_ok=True)
        certs_dir.mkdir(mode=DIR_MODE)


def _issue_all(paths: CertPaths, days: int) -> dict[Path, tuple[bytes, int]]:
    """Generate everything in memory first: nothing existing is removed until that succeeded."""
    not_before = dt.datetime.now(dt.UTC) - CLOCK_SKEW
    not_after = not_before + CLOCK_SKEW + dt.timedelta(days=days)
    ca = _issue_ca(not_before, not_after)
    server = _issue_server(ca, not_before, not_after)
    return {
        paths.ca_key: (key_pem(ca.key), KEY_MODE),
        paths.ca_cert: (cert_pem(ca.cert), CERT_MODE),
        paths.server_key: (key_pem(server.key), KEY_MODE),
        paths.server_cert: (cert_pem(server.cert) + cert_pem(ca.cert), CERT_MODE),
    }


def _issue_ca(not_before: dt.datetime, not_after: dt.datetime) -> IssuedCert:
    key = ec.generate_private_key(ec.SECP256R1())
    name = dev_name(CA_COMMON_NAME)
    usage = key_usage(digital_signature=False, key_cert_sign=True, crl_sign=True)
    builder = (
        base_builder(name, name, key.public_key(), not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage, critical=True)
    )
    return IssuedCert(key=key, cert=builder.sign(key, hashes.SHA256()))


def _issue_server(ca: IssuedCert, not_before: dt.datetime, not_after: dt.datetime) -> IssuedCert:
    key = ec.generate_private_key(ec.SECP256R1())
    ca_ski = ca.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    usage = key_usage(digital_signature=True, key_cert_sign=False, crl_sign=False)
    builder = (
        base_builder(
            dev_name(SERVER_COMMON_NAME), ca.cert.subject, key.public_key(), not_before, not_after
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(_server_names()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
    )
    return IssuedCert(key=key, cert=builder.sign(ca.key, hashes.SHA256()))


def base_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def dev_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Enclave (development)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def key_usage(*, digital_signature: bool, key_cert_sign: bool, crl_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _server_names() -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVER_DNS_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_IP_ADDRESSES]
    return names


def key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def write_new_file(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` from the start; fail rather than touch an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def describe(path: Path) -> str:
    """Subject, issuer, SANs, validity and SHA-256 fingerprint of the first cert in ``path``."""
    certs = load_certs(path)
    cert = certs[0]
    lines = [
        f"file:        {path}",
        f"subject:     {cert.subject.rfc4514_string()}",
        f"issuer:      {cert.issuer.rfc4514_string()}",
        f"SANs:        {_sans(cert) or '(none)'}",
        f"valid from:  {cert.not_valid_before_utc.isoformat()}",
        f"expires:     {cert.not_valid_after_utc.isoformat()}",
        f"SHA-256:     {fingerprint(cert)}",
    ]
    if len(certs) > 1:
        lines.append(f"chain:       {len(certs)} certificates (leaf first)")
    return "\n".join(lines)


def fingerprint(cert: x509.Certificate) -> str:
    """The certificate's SHA-256 fingerprint as colon-separated upper-case hex."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def load_certs(path: Path) -> list[x509.Certificate]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"{path}: cannot read certificate ({exc.strerror}); run `enclave certs init`"
        ) from exc
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise ConfigurationError(f"{path}: not a PEM certificate") from exc


def _sans(cert: x509.Certificate) -> str:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ""
    dns = [f"DNS:{name}" for name in san.get_values_for_type(x509.DNSName)]
    ips = [f"IP:{ip}" for ip in san.get_values_for_type(x509.IPAddress)]
    uris = [f"URI:{uri}" for uri in san.get_values_for_type(x509.UniformResourceIdentifier)]
    return ", ".join(dns + ips + uris)
