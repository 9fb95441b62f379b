"""Client certificates for mutual TLS: each one names exactly one tenant.

The tenant is named by a URI subject alternative name ``enclave://tenant/<name>``; the
subject's common name only labels the holder (it becomes the audit record's subject).
Only that URI maps a certificate to a tenant, so an ordinary certificate from a shared
corporate CA (a person's or a server's) is never mistaken for a tenant's.

``enclave certs client --tenant T`` issues one signed by the development CA, with its
private key created 0600 from the first byte.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.errors import ConfigurationError, ConflictError
from gateway.identity.validation import checked_name
from gateway.tls.certs import (
    CERT_MODE,
    CLOCK_SKEW,
    KEY_MODE,
    CertPaths,
    base_builder,
    cert_pem,
    dev_name,
    ensure_dir,
    fingerprint,
    key_pem,
    key_usage,
    load_certs,
    write_new_file,
)

TENANT_URI_PREFIX = "enclave://tenant/"
CLIENTS_DIR = "clients"
DEFAULT_DAYS = 90


@dataclasses.dataclass(frozen=True, slots=True)
class ClientCertFiles:
    """Where an issued client certificate and its private key were written."""

    cert: Path
    key: Path
    not_after: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class ClientIdentity:
    """What a verified client certificate says about its holder."""

    tenants: tuple[str, ...]
    """Every tenant named by an ``enclave://tenant/...`` URI (exactly one is usable)."""
    common_name: str | None
    fingerprint: str
    """SHA-256 fingerprint, colon-separated hex."""


def tenant_uri(tenant: str) -> str:
    return f"{TENANT_URI_PREFIX}{tenant}"


def client_identity(cert: x509.Certificate) -> ClientIdentity:
    """The tenants, common name and fingerprint of ``cert`` (no trust decision is made here)."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    common_name = names[0].value if names else None
    return ClientIdentity(
        tenants=_tenant_uris(cert),
        common_name=common_name if isinstance(common_name, str) else None,
        fingerprint=fingerprint(cert),
    )


def _tenant_uris(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return ()
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    return tuple(uri[len(TENANT_URI_PREFIX) :] for uri in uris if uri.startswith(TENANT_URI_PREFIX))


def issue_client_cert(
    certs_dir: Path,
    tenant: str,
    *,
    name: str | None = None,
    out_dir: Path | None = None,
    days: int = DEFAULT_DAYS,
    valid_from: dt.datetime | None = None,
    force: bool = False,
) -> ClientCertFiles:
    """A client certificate for ``tenant`` signed by the CA in ``certs_dir``.

    Written to ``out_dir`` (default ``certs_dir/clients``) as ``<name>.pem`` and
    ``<name>-key.pem``; ``name`` (default: the tenant) is also the common name. The
    validity never outlasts the CA's. Existing files are kept unless ``force``.
    """
    checked_name(tenant, param="tenant")
    label = checked_name(name or tenant, param="name")
    if days < 1:
        raise ValueError("days must be at least 1")
    ca_key, ca_cert = _load_ca(CertPaths.in_dir(certs_dir))
    start = valid_from or dt.datetime.now(dt.UTC) - CLOCK_SKEW
    not_after = min(start + CLOCK_SKEW + dt.timedelta(days=days), ca_cert.not_valid_after_utc)
    folder = out_dir or certs_dir / CLIENTS_DIR
    files = ClientCertFiles(folder / f"{label}.pem", folder / f"{label}-key.pem", not_after)
    _refuse_existing(files, force=force)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _build(tenant, label, key, ca_cert, start, not_after).sign(ca_key, hashes.SHA256())
    try:
        ensure_dir(folder)
        for path in (files.cert, files.key):
            path.unlink(missing_ok=True)
        write_new_file(files.key, key_pem(key), KEY_MODE)
        write_new_file(files.cert, cert_pem(cert), CERT_MODE)
    except OSError as exc:
        raise ConfigurationError(f"{exc.filename or folder}: {exc.strerror}") from exc
    return files


def _build(
    tenant: str,
    label: str,
    key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.CertificateBuilder:
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    usage = key_usage(digital_signature=True, key_cert_sign=False, crl_sign=False)
    san = x509.SubjectAlternativeName([x509.UniformResourceIdentifier(tenant_uri(tenant))])
    return (
        base_builder(dev_name(label), ca_cert.subject, key.public_key(), not_before, not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(san, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
    )


def _load_ca(paths: CertPaths) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    ca_cert = load_certs(paths.ca_cert)[0]
    try:
        key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), password=None)
    except OSError as exc:
        raise ConfigurationError(
            f"{paths.ca_key}: cannot read the CA key ({exc.strerror}); run `enclave certs init`"
        ) from exc
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(f"{paths.ca_key}: not an unencrypted PEM private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != ca_cert.public_key():
        raise ConfigurationError(f"{paths.ca_key} is not the private key of {paths.ca_cert}")
    return key, ca_cert


def _refuse_existing(files: ClientCertFiles, *, force: bool) -> None:
    existing = [path for path in (files.cert, files.key) if path.exists()]
    if existing and not force:
        raise ConflictError(
            f"{existing[0]} already exists; choose another --name or pass --force to replace it"
        )
