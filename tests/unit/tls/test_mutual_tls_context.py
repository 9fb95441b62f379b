"""The server context with a client CA, and the ASGI TLS extension built from a real connection."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from gateway.errors import ConfigurationError
from gateway.tls.certs import CertPaths, init_dev_certs
from gateway.tls.client_certs import ClientCertFiles, issue_client_cert
from gateway.tls.context import server_ssl_context
from gateway.tls.peer import tls_extension

SOCKET_TIMEOUT = 10.0  # a safety net against hangs, not a timing assertion


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> CertPaths:
    return init_dev_certs(tmp_path_factory.mktemp("mtls") / "certs")


@pytest.fixture(scope="module")
def acme(dev: CertPaths) -> ClientCertFiles:
    return issue_client_cert(dev.ca_cert.parent, "acme")


class _Transport(asyncio.BaseTransport):
    """Just enough of a TLS transport: ``get_extra_info("ssl_object")``."""

    def __init__(self, tls: ssl.SSLSocket | None) -> None:
        super().__init__()
        self._tls = tls

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._tls if name == "ssl_object" else default


def _extension_seen_by_server(
    server: ssl.SSLContext, client: ssl.SSLContext
) -> dict[object, object] | None:
    """Handshake over loopback; the TLS extension the server side builds from its connection."""
    seen: list[dict[object, object] | None] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(SOCKET_TIMEOUT)

        def serve() -> None:
            conn, _ = listener.accept()
            with conn, server.wrap_socket(conn, server_side=True) as tls:
                seen.append(tls_extension(_Transport(tls)))
                tls.sendall(b"ok")

        thread = threading.Thread(target=serve)
        thread.start()
        port = listener.getsockname()[1]
        with (
            socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT) as raw,
            client.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            assert tls.recv(2) == b"ok"
        thread.join(SOCKET_TIMEOUT)
    assert len(seen) == 1
    return seen[0]


def _client(dev: CertPaths, files: ClientCertFiles | None) -> ssl.SSLContext:
    client = ssl.create_default_context(cafile=str(dev.ca_cert))
    if files is not None:
        client.load_cert_chain(files.cert, files.key)
    return client


def test_client_ca_requires_strictly_verified_certificates(dev: CertPaths) -> None:
    context = server_ssl_context(dev.server_cert, dev.server_key, client_ca=dev.ca_cert)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.verify_flags & ssl.VERIFY_X509_STRICT
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2


def test_without_client_ca_no_certificate_is_asked(dev: CertPaths) -> None:
    context = server_ssl_context(dev.server_cert, dev.server_key)
    assert context.verify_mode == ssl.CERT_NONE


def test_extension_carries_the_verified_client_certificate(
    dev: CertPaths, acme: ClientCertFiles
) -> None:
    server = server_ssl_context(dev.server_cert, dev.server_key, client_ca=dev.ca_cert)
    extension = _extension_seen_by_server(server, _client(dev, acme))
    assert extension is not None
    chain = extension["client_cert_chain"]
    assert isinstance(chain, list)
    assert x509.load_pem_x509_certificate(chain[0].encode()) == x509.load_pem_x509_certificate(
        acme.cert.read_bytes()
    )
    assert extension["client_cert_name"] == "CN=acme,O=Enclave (development)"
    assert extension["client_cert_error"] is None
    assert extension["tls_version"] == 0x0304


def test_no_extension_without_mutual_tls(dev: CertPaths, acme: ClientCertFiles) -> None:
    server = server_ssl_context(dev.server_cert, dev.server_key)
    assert _extension_seen_by_server(server, _client(dev, acme)) is None
    assert tls_extension(_Transport(None)) is None


def test_missing_client_ca_is_a_configuration_error(dev: CertPaths, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"client CA certificate .*absent\.pem"):
        server_ssl_context(dev.server_cert, dev.server_key, client_ca=tmp_path / "absent.pem")


def test_garbage_client_ca_is_a_configuration_error(dev: CertPaths, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ConfigurationError, match=r"garbage\.pem: not a usable client CA"):
        server_ssl_context(dev.server_cert, dev.server_key, client_ca=garbage)
