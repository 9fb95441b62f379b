"""Client certificates for mutual TLS: issued by the dev CA, one tenant each, keys 0600."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from gateway.errors import ConfigurationError, ConflictError, InvalidRequestError
from gateway.tls.certs import CertPaths, init_dev_certs
from gateway.tls.client_certs import (
    ClientCertFiles,
    client_identity,
    issue_client_cert,
    tenant_uri,
)
from tests.support.cli import EnclaveCli


@pytest.fixture
def dev(tmp_path: Path) -> CertPaths:
    return init_dev_certs(tmp_path / "certs")


def _certs_dir(paths: CertPaths) -> Path:
    return paths.ca_cert.parent


def _load(path: Path) -> x509.Certificate:
    (cert,) = x509.load_pem_x509_certificates(path.read_bytes())
    return cert


def _verify_as_client(paths: CertPaths, files: ClientCertFiles) -> None:
    builder = PolicyBuilder().store(Store([_load(paths.ca_cert)]))
    builder.build_client_verifier().verify(_load(files.cert), [])


def test_issued_certificate_names_the_tenant_and_verifies_as_a_client(dev: CertPaths) -> None:
    files = issue_client_cert(_certs_dir(dev), "acme")
    assert files.cert == _certs_dir(dev) / "clients" / "acme.pem"
    assert files.key == _certs_dir(dev) / "clients" / "acme-key.pem"
    cert = _load(files.cert)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == ["enclave://tenant/acme"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    _verify_as_client(dev, files)
    identity = client_identity(cert)
    assert identity.tenants == ("acme",)
    assert identity.common_name == "acme"


def test_key_is_created_0600(dev: CertPaths) -> None:
    previous = os.umask(0)
    try:
        files = issue_client_cert(_certs_dir(dev), "acme")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.cert.stat().st_mode) & 0o022 == 0
    assert stat.S_IMODE(files.cert.parent.stat().st_mode) == 0o700


def test_name_sets_common_name_and_files(dev: CertPaths, tmp_path: Path) -> None:
    files = issue_client_cert(_certs_dir(dev), "acme", name="acme-batch", out_dir=tmp_path / "o")
    assert files.cert == tmp_path / "o" / "acme-batch.pem"
    identity = client_identity(_load(files.cert))
    assert (identity.common_name, identity.tenants) == ("acme-batch", ("acme",))


def test_existing_files_are_kept_unless_forced(dev: CertPaths) -> None:
    first = issue_client_cert(_certs_dir(dev), "acme")
    before = first.key.read_bytes()
    with pytest.raises(ConflictError, match="--force"):
        issue_client_cert(_certs_dir(dev), "acme")
    assert first.key.read_bytes() == before
    again = issue_client_cert(_certs_dir(dev), "acme", force=True)
    assert again.key.read_bytes() != before


def test_validity_follows_days_and_never_outlasts_the_ca(dev: CertPaths) -> None:
    short = _load(issue_client_cert(_certs_dir(dev), "acme", days=7).cert)
    assert 7 <= (short.not_valid_after_utc - short.not_valid_before_utc).days <= 8
    long = issue_client_cert(_certs_dir(dev), "acme", name="long", days=5000)
    assert _load(long.cert).not_valid_after_utc <= _load(dev.ca_cert).not_valid_after_utc
    assert long.not_after == _load(long.cert).not_valid_after_utc


def test_a_certificate_issued_in_the_past_is_expired(dev: CertPaths) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    files = issue_client_cert(_certs_dir(dev), "acme", days=1, valid_from=start)
    assert _load(files.cert).not_valid_after_utc < dt.datetime.now(dt.UTC) - dt.timedelta(days=8)
    with pytest.raises(VerificationError, match="not valid at validation time"):
        _verify_as_client(dev, files)


@pytest.mark.parametrize("tenant", ["Acme", "-acme", "acme/../x", ""])
def test_invalid_tenant_names_are_refused(dev: CertPaths, tenant: str) -> None:
    with pytest.raises(InvalidRequestError):
        issue_client_cert(_certs_dir(dev), tenant)
    assert not (_certs_dir(dev) / "clients").exists()


def test_without_the_ca_key_it_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="enclave certs init"):
        issue_client_cert(tmp_path / "empty", "acme")


def test_a_ca_key_that_does_not_match_the_ca_is_refused(dev: CertPaths, tmp_path: Path) -> None:
    other = init_dev_certs(tmp_path / "other")
    dev.ca_key.unlink()
    dev.ca_key.write_bytes(other.ca_key.read_bytes())
    with pytest.raises(ConfigurationError, match="not the private key"):
        issue_client_cert(_certs_dir(dev), "acme")


def test_a_certificate_without_a_tenant_uri_names_no_tenant(dev: CertPaths) -> None:
    cert = _load(issue_client_cert(_certs_dir(dev), "acme").cert)
    assert client_identity(cert).fingerprint.count(":") == 31
    assert tenant_uri("acme") == "enclave://tenant/acme"
    (server, _) = x509.load_pem_x509_certificates(dev.server_cert.read_bytes())
    assert client_identity(server).tenants == ()


def test_cli_issues_and_describes_without_key_material(dev: CertPaths) -> None:
    cli = EnclaveCli(env={"ENCLAVE_CERTS_DIR": str(_certs_dir(dev))})
    output = cli.ok("certs", "client", "--tenant", "acme", "--days", "30").stdout
    key = _certs_dir(dev) / "clients" / "acme-key.pem"
    assert "URI:enclave://tenant/acme" in output
    assert str(key) in output
    assert "mode 0600" in output
    assert "PRIVATE KEY" not in output
    assert all(line not in output for line in key.read_text().splitlines()[1:-1])
    refusal = cli.refused("certs", "client", "--tenant", "acme")
    assert "already exists" in refusal
    assert "tenant 'Bad Name' is not valid" in cli.refused(
        "certs", "client", "--tenant", "Bad Name"
    )
