"""The HTTPS listener exactly as `enclave serve` runs it: which TLS versions and suites get in.

asyncio and uvloop close a failed handshake without sending the TLS alert, so a refusal
shows as the server hanging up on the ClientHello. That it is the server's doing, and
not the client's, is shown by a control: the same client completes a handshake with a
permissive server holding the same certificate (``@SECLEVEL=0`` lets the local OpenSSL
offer what it would otherwise hold back). The listener runs once with the ECDSA dev
certificate and once with an RSA one, with which RSA key exchange (no forward secrecy)
would be possible at all.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway.tls.certs import CertPaths, init_dev_certs
from tests.e2e.conftest import prepare_identity
from tests.support.gateway_process import REPO, instant_gateway_env, running_gateway

SOCKET_TIMEOUT = 10.0  # a safety net against hangs, not a timing assertion
HUNG_UP = "the server closed the connection during the handshake"
WEAK_TLS12_SUITES = {
    "ecdsa": [
        "ECDHE-ECDSA-AES128-SHA",  # CBC: not AEAD
        "ECDHE-ECDSA-AES256-SHA",
        "ECDHE-ECDSA-AES128-SHA256",
        "ECDHE-ECDSA-AES256-SHA384",
    ],
    "rsa": [
        "ECDHE-RSA-AES128-SHA",  # CBC: not AEAD
        "ECDHE-RSA-AES128-SHA256",
        "AES128-GCM-SHA256",  # RSA key exchange: no forward secrecy
        "AES256-GCM-SHA384",
        "AES128-SHA",  # neither
        "AES256-SHA256",
    ],
}


@dataclass(frozen=True)
class Listener:
    url: str
    port: int
    ca_file: Path
    key_type: str
    """``ecdsa`` (the dev certificate) or ``rsa``."""
    certfile: Path
    keyfile: Path


def rsa_server_cert(dev: CertPaths, folder: Path) -> tuple[Path, Path]:
    """An RSA localhost certificate signed by the dev CA (chain file, key file)."""
    ca_key = serialization.load_pem_private_key(dev.ca_key.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    (ca,) = x509.load_pem_x509_certificates(dev.ca_cert.read_bytes())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = dt.datetime.now(dt.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    chain, key_file = folder / "rsa.pem", folder / "rsa-key.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + dev.ca_cert.read_bytes())
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return chain, key_file


@pytest.fixture(scope="module", params=["ecdsa", "rsa"])
def listener(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Listener]:
    work = tmp_path_factory.mktemp(f"listener-{request.param}")
    dev = init_dev_certs(work / "certs")
    chain, key = dev.server_cert, dev.server_key
    if request.param == "rsa":
        chain, key = rsa_server_cert(dev, work)
    env = instant_gateway_env(work, ENCLAVE_TLS_CERTFILE=str(chain), ENCLAVE_TLS_KEYFILE=str(key))
    prepare_identity(env)
    trust = ssl.create_default_context(cafile=str(dev.ca_cert))
    with running_gateway(env, trust, work / "server.log") as url:
        port = int(env["ENCLAVE_PORT"])
        yield Listener(url, port, dev.ca_cert, request.param, chain, key)


def handshake(port: int, client: ssl.SSLContext) -> tuple[str, str]:
    """The TLS version and suite a completed handshake agreed on."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT) as raw,
        client.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        cipher = tls.cipher()
        assert cipher is not None
        return tls.version() or "", cipher[0]


def refusal(listener: Listener, client: ssl.SSLContext) -> str:
    """How the gateway ended the handshake (HUNG_UP, or the reason of another error)."""
    try:
        handshake(listener.port, client)
    except (ssl.SSLEOFError, ConnectionResetError):
        return HUNG_UP
    except ssl.SSLError as exc:
        return HUNG_UP if exc.reason == "UNEXPECTED_EOF_WHILE_READING" else str(exc.reason)
    return "the handshake succeeded"


@contextlib.contextmanager
def permissive_server(listener: Listener) -> Iterator[int]:
    """The control: one connection to a server that allows anything, with the same certificate."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.minimum_version = ssl.TLSVersion.TLSv1
    server.set_ciphers("ALL:@SECLEVEL=0")
    server.load_cert_chain(listener.certfile, listener.keyfile)
    with socket.create_server(("127.0.0.1", 0)) as sock:
        sock.settimeout(SOCKET_TIMEOUT)

        def accept_one() -> None:
            conn, _ = sock.accept()
            with conn, contextlib.suppress(OSError), server.wrap_socket(conn, server_side=True):
                pass

        thread = threading.Thread(target=accept_one)
        thread.start()
        yield sock.getsockname()[1]
        thread.join(SOCKET_TIMEOUT)


def control(listener: Listener, client: ssl.SSLContext) -> tuple[str, str]:
    with permissive_server(listener) as port:
        return handshake(port, client)


def unverified(version: ssl.TLSVersion, ciphers: str) -> ssl.SSLContext:
    """A client speaking only ``version``, offering exactly ``ciphers`` (for TLS 1.2 and older)."""
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    client.minimum_version = client.maximum_version = version
    client.set_ciphers(f"{ciphers}:@SECLEVEL=0")
    return client


def verifying(listener: Listener, version: ssl.TLSVersion) -> ssl.SSLContext:
    client = ssl.create_default_context(cafile=str(listener.ca_file))
    client.minimum_version = client.maximum_version = version
    return client


@pytest.mark.parametrize(
    ("version", "name"), [(ssl.TLSVersion.TLSv1, "TLSv1"), (ssl.TLSVersion.TLSv1_1, "TLSv1.1")]
)
def test_tls10_and_tls11_are_refused_by_the_server(
    listener: Listener, version: ssl.TLSVersion, name: str
) -> None:
    client = unverified(version, "ALL")
    assert control(listener, client)[0] == name
    assert refusal(listener, client) == HUNG_UP


def test_tls12_suites_without_aead_or_forward_secrecy_are_refused(listener: Listener) -> None:
    suites = WEAK_TLS12_SUITES[listener.key_type]
    controls, refusals = {}, {}
    for suite in suites:
        client = unverified(ssl.TLSVersion.TLSv1_2, suite)
        controls[suite] = control(listener, client)
        refusals[suite] = refusal(listener, client)
    assert controls == {suite: ("TLSv1.2", suite) for suite in suites}
    assert refusals == dict.fromkeys(suites, HUNG_UP)


def test_a_client_offering_weak_suites_first_still_gets_ecdhe_aead(listener: Listener) -> None:
    weak = ":".join(WEAK_TLS12_SUITES[listener.key_type])
    client = unverified(ssl.TLSVersion.TLSv1_2, f"{weak}:ECDHE+AESGCM")
    version, suite = handshake(listener.port, client)
    assert version == "TLSv1.2"
    assert suite.startswith("ECDHE-")
    assert "-GCM-" in suite


@pytest.mark.parametrize("suites", ["ECDHE+AESGCM", "ECDHE+CHACHA20"])
def test_tls12_ecdhe_aead_serves_requests(listener: Listener, suites: str) -> None:
    client = verifying(listener, ssl.TLSVersion.TLSv1_2)
    client.set_ciphers(suites)
    version, suite = handshake(listener.port, client)
    assert (version, suite.split("-")[0]) == ("TLSv1.2", "ECDHE")
    assert httpx.get(f"{listener.url}/healthz", verify=client).json() == {"status": "ok"}


def test_tls13_serves_requests(listener: Listener) -> None:
    client = verifying(listener, ssl.TLSVersion.TLSv1_3)
    version, suite = handshake(listener.port, client)
    assert version == "TLSv1.3"
    assert suite in {
        "TLS_AES_256_GCM_SHA384",
        "TLS_AES_128_GCM_SHA256",
        "TLS_CHACHA20_POLY1305_SHA256",
    }
    assert httpx.get(f"{listener.url}/healthz", verify=client).json() == {"status": "ok"}


# --- sslyze ---------------------------------------------------------------------------------

SSLYZE_CHECKS = [
    *("--sslv2", "--sslv3", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3"),
    *("--compression", "--reneg", "--fallback", "--ems"),
    *("--heartbleed", "--openssl_ccs", "--robot"),
]


def sslyze_tool() -> str:
    tool = os.environ.get("SSLYZE") or str(
        REPO / "var" / "tools" / "sslyze-venv" / "bin" / "sslyze"
    )
    if not os.access(tool, os.X_OK):
        pytest.fail(f"sslyze is needed at {tool}: `make test` installs it (or set SSLYZE)")
    return tool


@pytest.fixture(scope="module")
def scan(listener: Listener, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """sslyze's results for the listener (Mozilla's profiles off: the dev CA is not public)."""
    report = tmp_path_factory.mktemp("sslyze") / "sslyze.json"
    target = f"127.0.0.1:{listener.port}"
    command = [sslyze_tool(), "--quiet", "--json_out", str(report), "--mozilla_config", "disable"]
    done = subprocess.run(
        [*command, *SSLYZE_CHECKS, target], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (server,) = json.loads(report.read_text())["server_scan_results"]
    assert server["scan_status"] == "COMPLETED", server.get("connectivity_error_trace")
    results: dict[str, Any] = server["scan_result"]
    failed = {name: r["status"] for name, r in results.items() if r["status"] == "ERROR"}
    assert not failed, failed
    return {name: r["result"] for name, r in results.items() if r["status"] == "COMPLETED"}


def test_sslyze_finds_only_tls12_ecdhe_aead_and_tls13(
    listener: Listener, scan: dict[str, Any]
) -> None:
    for old in ("ssl_2_0", "ssl_3_0", "tls_1_0", "tls_1_1"):
        assert not scan[f"{old}_cipher_suites"]["is_tls_version_supported"], old
        assert scan[f"{old}_cipher_suites"]["accepted_cipher_suites"] == [], old
    assert scan["tls_1_3_cipher_suites"]["is_tls_version_supported"]
    tls12 = scan["tls_1_2_cipher_suites"]["accepted_cipher_suites"]
    names = {suite["cipher_suite"]["openssl_name"] for suite in tls12}
    key = "ECDSA" if listener.key_type == "ecdsa" else "RSA"
    assert names == {
        f"ECDHE-{key}-AES128-GCM-SHA256",
        f"ECDHE-{key}-AES256-GCM-SHA384",
        f"ECDHE-{key}-CHACHA20-POLY1305",
    }
    assert {suite["ephemeral_key"]["type_name"] for suite in tls12} == {"ECDH"}


def test_sslyze_finds_no_compression_renegotiation_or_known_attacks(scan: dict[str, Any]) -> None:
    assert scan["tls_compression"] == {"supports_compression": False}
    renegotiation = scan["session_renegotiation"]
    assert renegotiation["supports_secure_renegotiation"]
    assert not renegotiation["is_vulnerable_to_client_renegotiation_dos"]
    assert scan["tls_fallback_scsv"]["supports_fallback_scsv"]
    assert scan["tls_extended_master_secret"]["supports_ems_extension"]
    assert not scan["heartbleed"]["is_vulnerable_to_heartbleed"]
    assert not scan["openssl_ccs_injection"]["is_vulnerable_to_ccs_injection"]
    assert scan["robot"]["robot_result"].startswith("NOT_VULNERABLE")
