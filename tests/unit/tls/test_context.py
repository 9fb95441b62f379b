"""Hardened SSL contexts: real loopback handshakes that must succeed or be refused."""

from __future__ import annotations

import dataclasses
import datetime as dt
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from gateway.errors import ConfigurationError
from gateway.tls.certs import CertPaths, init_dev_certs
from gateway.tls.context import client_ssl_context, server_ssl_context

SOCKET_TIMEOUT = 10.0  # a safety net against hangs, not a timing assertion


@dataclasses.dataclass
class ServerOutcome:
    version: str | None = None
    cipher: str | None = None
    error: BaseException | None = None


@dataclasses.dataclass(frozen=True)
class ClientResult:
    version: str | None
    cipher: str
    payload: bytes


@pytest.fixture(scope="module")
def dev_certs(tmp_path_factory: pytest.TempPathFactory) -> CertPaths:
    return init_dev_certs(tmp_path_factory.mktemp("tls") / "certs")


@pytest.fixture
def server_context(dev_certs: CertPaths) -> ssl.SSLContext:
    return server_ssl_context(dev_certs.server_cert, dev_certs.server_key)


@pytest.fixture
def client_context(dev_certs: CertPaths) -> ssl.SSLContext:
    return client_ssl_context(dev_certs.ca_cert)


@pytest.fixture(scope="module")
def rsa_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed RSA leaf: with it, non-forward-secret RSA key exchange is possible at all."""
    folder = tmp_path_factory.mktemp("rsa")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = folder / "rsa.pem", folder / "rsa-key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certfile, keyfile


# --- helpers --------------------------------------------------------------------------------


def _serve_one(listener: socket.socket, context: ssl.SSLContext, outcome: ServerOutcome) -> None:
    try:
        conn, _ = listener.accept()
    except OSError as exc:
        outcome.error = exc
        return
    with conn:
        conn.settimeout(SOCKET_TIMEOUT)
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                cipher = tls.cipher()
                outcome.version, outcome.cipher = tls.version(), cipher and cipher[0]
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError) as exc:
            outcome.error = exc


@contextmanager
def tls_server(context: ssl.SSLContext) -> Iterator[tuple[int, ServerOutcome]]:
    """Accept one TLS connection in a thread; the outcome is complete once the block exits."""
    outcome = ServerOutcome()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(SOCKET_TIMEOUT)
        thread = threading.Thread(target=_serve_one, args=(listener, context, outcome))
        thread.start()
        try:
            yield listener.getsockname()[1], outcome
        finally:
            thread.join(SOCKET_TIMEOUT)
    assert not thread.is_alive()


def _connect(port: int, context: ssl.SSLContext, hostname: str = "localhost") -> ClientResult:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname=hostname) as tls,
    ):
        payload = tls.recv(2)
        cipher = tls.cipher()
        assert cipher is not None
        return ClientResult(version=tls.version(), cipher=cipher[0], payload=payload)


def _handshake(
    server: ssl.SSLContext, client: ssl.SSLContext, hostname: str = "localhost"
) -> tuple[ClientResult, ServerOutcome]:
    with tls_server(server) as (port, outcome):
        result = _connect(port, client, hostname)
    return result, outcome


def _refused(
    server: ssl.SSLContext, client: ssl.SSLContext, hostname: str = "localhost"
) -> tuple[ssl.SSLError, ServerOutcome]:
    with tls_server(server) as (port, outcome), pytest.raises(ssl.SSLError) as caught:
        _connect(port, client, hostname)
    return caught.value, outcome


def _unverified_client() -> ssl.SSLContext:
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    return client


def _legacy_client() -> ssl.SSLContext:
    """A client that will only speak TLS 1.0/1.1 and is allowed to by its own policy."""
    client = _unverified_client()
    client.minimum_version = ssl.TLSVersion.TLSv1
    client.maximum_version = ssl.TLSVersion.TLSv1_1
    client.set_ciphers("DEFAULT:@SECLEVEL=0")
    return client


def _permissive_server(certfile: Path, keyfile: Path) -> ssl.SSLContext:
    """The control: a server without our hardening, to prove the refused clients do connect."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.minimum_version = ssl.TLSVersion.TLSv1
    server.set_ciphers("ALL:@SECLEVEL=0")
    server.load_cert_chain(certfile, keyfile)
    return server


def _tls12_client(ciphers: str) -> ssl.SSLContext:
    client = _unverified_client()
    client.maximum_version = ssl.TLSVersion.TLSv1_2
    client.set_ciphers(ciphers)
    return client


# --- context settings -----------------------------------------------------------------------


def test_server_context_settings(server_context: ssl.SSLContext) -> None:
    assert server_context.minimum_version == ssl.TLSVersion.TLSv1_2
    for flag in (
        ssl.OP_NO_COMPRESSION,
        ssl.OP_CIPHER_SERVER_PREFERENCE,
        ssl.OP_NO_RENEGOTIATION,
    ):
        assert server_context.options & flag == flag


def test_server_tls12_ciphers_are_ecdhe_aead_only(server_context: ssl.SSLContext) -> None:
    tls12 = [c for c in server_context.get_ciphers() if c["protocol"] == "TLSv1.2"]
    assert tls12
    for cipher in tls12:
        assert cipher["kea"] == "kx-ecdhe", cipher["name"]
        assert cipher["aead"], cipher["name"]


def test_client_context_verifies(client_context: ssl.SSLContext) -> None:
    assert client_context.verify_mode == ssl.CERT_REQUIRED
    assert client_context.check_hostname
    assert client_context.minimum_version == ssl.TLSVersion.TLSv1_2


# --- handshakes that succeed ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "expected"),
    [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")],
)
def test_handshake_succeeds(
    server_context: ssl.SSLContext,
    client_context: ssl.SSLContext,
    version: ssl.TLSVersion,
    expected: str,
) -> None:
    client_context.minimum_version = client_context.maximum_version = version
    result, outcome = _handshake(server_context, client_context)
    assert outcome.error is None
    assert result.payload == b"ok"
    assert result.version == outcome.version == expected


def test_tls12_handshake_negotiates_ecdhe(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    client_context.maximum_version = ssl.TLSVersion.TLSv1_2
    result, _ = _handshake(server_context, client_context)
    assert result.cipher.startswith("ECDHE-ECDSA-")


@pytest.mark.parametrize("hostname", ["localhost", "127.0.0.1"])
def test_client_verifies_server_names(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext, hostname: str
) -> None:
    result, _ = _handshake(server_context, client_context, hostname)
    assert result.payload == b"ok"


# --- handshakes that are refused ------------------------------------------------------------


def test_client_rejects_wrong_hostname(
    server_context: ssl.SSLContext, client_context: ssl.SSLContext
) -> None:
    error, _ = _refused(server_context, client_context, "example.com")
    assert isinstance(error, ssl.SSLCertVerificationError)


def test_client_not_trusting_the_ca_fails(server_context: ssl.SSLContext, tmp_path: Path) -> None:
    stranger = init_dev_certs(tmp_path / "other-ca")
    error, _ = _refused(server_context, client_ssl_context(stranger.ca_cert))
    assert isinstance(error, ssl.SSLCertVerificationError)


@pytest.mark.parametrize("max_version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_legacy_tls_is_refused(server_context: ssl.SSLContext, max_version: ssl.TLSVersion) -> None:
    client = _legacy_client()
    client.maximum_version = max_version
    _, outcome = _refused(server_context, client)
    assert isinstance(outcome.error, ssl.SSLError)


@pytest.mark.parametrize(
    ("max_version", "expected"),
    [(ssl.TLSVersion.TLSv1, "TLSv1"), (ssl.TLSVersion.TLSv1_1, "TLSv1.1")],
)
def test_legacy_client_does_connect_to_a_permissive_server(
    dev_certs: CertPaths, max_version: ssl.TLSVersion, expected: str
) -> None:
    client = _legacy_client()
    client.maximum_version = max_version
    permissive = _permissive_server(dev_certs.server_cert, dev_certs.server_key)
    result, _ = _handshake(permissive, client)
    assert result.version == expected


@pytest.mark.parametrize("cipher", ["AES128-GCM-SHA256", "AES256-GCM-SHA384"])
def test_non_forward_secret_cipher_is_refused(
    server_context: ssl.SSLContext, rsa_pair: tuple[Path, Path], cipher: str
) -> None:
    _, outcome = _refused(server_context, _tls12_client(cipher))
    assert isinstance(outcome.error, ssl.SSLError)
    _, outcome = _refused(server_ssl_context(*rsa_pair), _tls12_client(cipher))
    assert isinstance(outcome.error, ssl.SSLError)


def test_non_forward_secret_client_connects_to_a_permissive_rsa_server(
    rsa_pair: tuple[Path, Path],
) -> None:
    result, _ = _handshake(_permissive_server(*rsa_pair), _tls12_client("AES128-GCM-SHA256"))
    assert result.cipher == "AES128-GCM-SHA256"


def test_non_aead_ecdhe_cipher_is_refused(dev_certs: CertPaths) -> None:
    server = server_ssl_context(dev_certs.server_cert, dev_certs.server_key)
    _, outcome = _refused(server, _tls12_client("ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"))
    assert isinstance(outcome.error, ssl.SSLError)
    control = _permissive_server(dev_certs.server_cert, dev_certs.server_key)
    result, _ = _handshake(control, _tls12_client("ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0"))
    assert result.cipher == "ECDHE-ECDSA-AES128-SHA"


# --- configuration errors -------------------------------------------------------------------


def test_missing_key_file_names_it(dev_certs: CertPaths, tmp_path: Path) -> None:
    missing = tmp_path / "nope-key.pem"
    with pytest.raises(ConfigurationError) as caught:
        server_ssl_context(dev_certs.server_cert, missing)
    message = str(caught.value)
    assert str(missing) in message
    assert "enclave certs init" in message


def test_missing_cert_file_names_it(dev_certs: CertPaths, tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigurationError, match="enclave certs init") as caught:
        server_ssl_context(missing, dev_certs.server_key)
    assert str(missing) in str(caught.value)


def test_unreadable_key_file_names_it(dev_certs: CertPaths, tmp_path: Path) -> None:
    key = tmp_path / "locked-key.pem"
    key.mkdir()  # a folder where the key should be: unreadable as a file, even for root
    with pytest.raises(ConfigurationError, match=r"locked-key\.pem"):
        server_ssl_context(dev_certs.server_cert, key)


def test_mismatched_key_is_a_configuration_error(dev_certs: CertPaths, tmp_path: Path) -> None:
    other = init_dev_certs(tmp_path / "other")
    with pytest.raises(ConfigurationError, match="cannot be loaded together"):
        server_ssl_context(dev_certs.server_cert, other.server_key)


def test_garbage_cert_is_a_configuration_error(dev_certs: CertPaths, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ConfigurationError, match=r"garbage\.pem"):
        server_ssl_context(garbage, dev_certs.server_key)


def test_client_missing_ca_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"absent-ca\.pem"):
        client_ssl_context(tmp_path / "absent-ca.pem")
