"""Development CA and server certificate: file modes, keep/force, extensions, verification."""

from __future__ import annotations

import ipaddress
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from gateway.cli.main import main
from gateway.errors import ConfigurationError
from gateway.tls.certs import CertPaths, describe, init_dev_certs


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _load(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def _contents(paths: CertPaths) -> dict[Path, bytes]:
    return {path: path.read_bytes() for path in paths.files()}


@pytest.fixture
def certs_dir(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "certs"


@pytest.fixture
def paths(certs_dir: Path) -> CertPaths:
    return init_dev_certs(certs_dir)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """A umask of 0: any mode wider than 0600 would show instead of being masked away."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


# --- files and permissions ------------------------------------------------------------------


def test_init_creates_all_files_in_the_folder(paths: CertPaths, certs_dir: Path) -> None:
    assert paths == CertPaths.in_dir(certs_dir)
    assert not paths.kept
    assert sorted(p.name for p in certs_dir.iterdir()) == [
        "ca-key.pem",
        "ca.pem",
        "server-key.pem",
        "server.pem",
    ]


@pytest.mark.usefixtures("open_umask")
def test_keys_are_0600_and_created_folder_is_0700(certs_dir: Path) -> None:
    paths = init_dev_certs(certs_dir)
    assert _mode(certs_dir) == 0o700
    assert _mode(paths.ca_key) == 0o600
    assert _mode(paths.server_key) == 0o600
    assert _mode(paths.ca_cert) & 0o022 == 0


@pytest.mark.usefixtures("open_umask")
def test_keys_are_never_chmodded_after_writing(
    certs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("keys must be created with 0600, not chmodded afterwards")

    monkeypatch.setattr(os, "chmod", forbidden)
    monkeypatch.setattr(os, "fchmod", forbidden)
    paths = init_dev_certs(certs_dir)
    assert _mode(paths.server_key) == 0o600


def test_existing_folder_mode_is_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    init_dev_certs(tmp_path)
    assert _mode(tmp_path) == 0o755


def test_second_init_keeps_existing_files(paths: CertPaths, certs_dir: Path) -> None:
    before = _contents(paths)
    again = init_dev_certs(certs_dir)
    assert again.kept
    assert again == paths
    assert _contents(again) == before


def test_force_replaces_every_file_with_private_modes(paths: CertPaths, certs_dir: Path) -> None:
    before = _contents(paths)
    again = init_dev_certs(certs_dir, force=True)
    assert not again.kept
    after = _contents(again)
    assert all(after[path] != before[path] for path in paths.files())
    assert _mode(again.ca_key) == 0o600
    assert _mode(again.server_key) == 0o600


def test_incomplete_set_is_refused_without_force(paths: CertPaths, certs_dir: Path) -> None:
    paths.server_cert.unlink()
    before = {p: p.read_bytes() for p in (paths.ca_cert, paths.ca_key, paths.server_key)}
    with pytest.raises(ConfigurationError, match=r"server\.pem.*--force"):
        init_dev_certs(certs_dir)
    assert {p: p.read_bytes() for p in before} == before
    assert not init_dev_certs(certs_dir, force=True).kept
    assert paths.server_cert.exists()


def test_days_must_be_positive(certs_dir: Path) -> None:
    with pytest.raises(ValueError, match="days"):
        init_dev_certs(certs_dir, days=0)
    assert not certs_dir.exists()


# --- certificate contents -------------------------------------------------------------------


def test_ca_is_a_p256_self_signed_ca(paths: CertPaths) -> None:
    (ca,) = _load(paths.ca_cert)
    public_key = ca.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert isinstance(public_key.curve, ec.SECP256R1)
    assert ca.subject == ca.issuer
    ca.verify_directly_issued_by(ca)
    basic = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert basic.critical
    assert basic.value.ca
    usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign
    ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)


def test_server_cert_is_a_p256_leaf_for_loopback_names(paths: CertPaths) -> None:
    leaf, chain_ca = _load(paths.server_cert)
    (ca,) = _load(paths.ca_cert)
    assert chain_ca == ca
    public_key = leaf.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert isinstance(public_key.curve, ec.SECP256R1)
    leaf.verify_directly_issued_by(ca)
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]


def test_server_cert_authority_key_id_matches_ca(paths: CertPaths) -> None:
    leaf, ca = _load(paths.server_cert)
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest


def test_validity_follows_days(certs_dir: Path) -> None:
    paths = init_dev_certs(certs_dir, days=30)
    (leaf, _) = _load(paths.server_cert)
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert 30 <= lifetime.days <= 31


def _verify(paths: CertPaths, subject: x509.DNSName | x509.IPAddress) -> None:
    leaf, _ = _load(paths.server_cert)
    store = Store(_load(paths.ca_cert))
    verifier = PolicyBuilder().store(store).build_server_verifier(subject)
    verifier.verify(leaf, [])


@pytest.mark.parametrize(
    "subject",
    [
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
    ],
)
def test_server_cert_verifies_against_ca(
    paths: CertPaths, subject: x509.DNSName | x509.IPAddress
) -> None:
    _verify(paths, subject)


@pytest.mark.parametrize(
    "subject", [x509.DNSName("example.com"), x509.IPAddress(ipaddress.ip_address("10.0.0.1"))]
)
def test_server_cert_does_not_verify_for_other_names(
    paths: CertPaths, subject: x509.DNSName | x509.IPAddress
) -> None:
    with pytest.raises(VerificationError):
        _verify(paths, subject)


def test_server_cert_does_not_verify_against_another_ca(paths: CertPaths, tmp_path: Path) -> None:
    other = init_dev_certs(tmp_path / "other")
    leaf, _ = _load(paths.server_cert)
    verifier = PolicyBuilder().store(Store(_load(other.ca_cert)))
    with pytest.raises(VerificationError):
        verifier.build_server_verifier(x509.DNSName("localhost")).verify(leaf, [])


# --- describe -------------------------------------------------------------------------------


def test_describe_names_subject_sans_expiry_and_fingerprint(paths: CertPaths) -> None:
    leaf, _ = _load(paths.server_cert)
    text = describe(paths.server_cert)
    assert "CN=localhost" in text
    assert "DNS:localhost, IP:127.0.0.1, IP:::1" in text
    assert leaf.not_valid_after_utc.isoformat() in text
    assert leaf.fingerprint(hashes.SHA256()).hex(":").upper() in text
    assert "PRIVATE KEY" not in text


def test_describe_refuses_a_key_file_without_echoing_it(paths: CertPaths) -> None:
    key_text = paths.server_key.read_text()
    with pytest.raises(ConfigurationError) as caught:
        describe(paths.server_key)
    assert str(paths.server_key) in str(caught.value)
    assert key_text.splitlines()[1] not in str(caught.value)


def test_describe_missing_file_suggests_init(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="enclave certs init"):
        describe(tmp_path / "absent.pem")


# --- CLI ------------------------------------------------------------------------------------


def _run_cli(argv: list[str]) -> int:
    return main(argv)


def _assert_no_key_material(output: str, paths: CertPaths) -> None:
    assert "PRIVATE KEY" not in output
    for key in (paths.ca_key, paths.server_key):
        for line in key.read_text().splitlines()[1:-1]:
            assert line not in output


def test_cli_init_creates_then_keeps(certs_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run_cli(["certs", "init", "--dir", str(certs_dir)]) == 0
    first = capsys.readouterr().out
    paths = CertPaths.in_dir(certs_dir)
    assert "Created" in first
    assert str(paths.server_key) in first
    assert "mode 0600" in first
    leaf, _ = _load(paths.server_cert)
    assert leaf.fingerprint(hashes.SHA256()).hex(":").upper() in first
    _assert_no_key_material(first, paths)
    assert _run_cli(["certs", "init", "--dir", str(certs_dir)]) == 0
    assert "Kept" in capsys.readouterr().out


def test_cli_init_force_replaces(paths: CertPaths, capsys: pytest.CaptureFixture[str]) -> None:
    before = paths.server_key.read_bytes()
    assert _run_cli(["certs", "init", "--dir", str(paths.ca_cert.parent), "--force"]) == 0
    assert "Created" in capsys.readouterr().out
    assert paths.server_key.read_bytes() != before


def test_cli_init_defaults_to_settings_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENCLAVE_CERTS_DIR", str(tmp_path / "from-env"))
    monkeypatch.delenv("ENCLAVE_CONFIG_FILE", raising=False)
    assert _run_cli(["certs", "init"]) == 0
    assert (tmp_path / "from-env" / "server.pem").exists()
    capsys.readouterr()


def test_cli_show_describes_without_keys(
    paths: CertPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run_cli(["certs", "show", "--dir", str(paths.ca_cert.parent)]) == 0
    output = capsys.readouterr().out
    assert "CN=Enclave Development CA" in output
    assert "DNS:localhost" in output
    _assert_no_key_material(output, paths)


def test_cli_show_warns_about_loose_key_mode(
    paths: CertPaths, capsys: pytest.CaptureFixture[str]
) -> None:
    paths.server_key.chmod(0o644)
    assert _run_cli(["certs", "show", "--dir", str(paths.ca_cert.parent)]) == 0
    assert "WARNING" in capsys.readouterr().out


def test_cli_show_missing_dir_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run_cli(["certs", "show", "--dir", str(tmp_path / "none")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("enclave: ")
    assert "enclave certs init" in error
