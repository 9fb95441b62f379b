"""Mutual TLS through `enclave serve`: the client certificate is the identity, headers are not.

The gateway runs with ``ENCLAVE_CLIENT_CA_FILE`` set to the dev CA; client certificates
come from `enclave certs client`. Who a request was served as is read back from its audit
record. Refused handshakes are closed by the server without a TLS alert (asyncio and
uvloop drop it), so clients see the connection end; the server's own verdict shows in
that a valid certificate on the same client settings gets through.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.tls.certs import CertPaths, init_dev_certs
from gateway.tls.client_certs import issue_client_cert
from tests.e2e.conftest import prepare_identity, run_cli
from tests.support.gateway_process import INSTANT_MODEL, instant_gateway_env, running_gateway

SOCKET_TIMEOUT = 10.0  # a safety net against hangs, not a timing assertion
CHAT = {"model": INSTANT_MODEL, "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
SPOOFED_IDENTITY_HEADERS = {
    "x-tenant": "globex",
    "x-enclave-tenant": "globex",
    "x-client-cert": "placeholder: the globex certificate (PEM, URL-encoded)",
    "x-forwarded-client-cert": 'Hash=00;URI=enclave://tenant/globex;Subject="CN=globex"',
    "x-ssl-client-cert": "placeholder",
    "x-ssl-client-s-dn": "CN=globex,O=Enclave (development)",
    "x-ssl-client-verify": "SUCCESS",
    "x-forwarded-user": "globex",
    "x-remote-user": "globex",
}


@dataclass(frozen=True)
class MutualTlsGateway:
    url: str
    port: int
    dev: CertPaths
    clients: Path
    """Folder of client certificates: ``<name>.pem`` and ``<name>-key.pem``."""
    env: dict[str, str]
    acme_token: str

    def tls(self, client: str | None, version: ssl.TLSVersion | None = None) -> ssl.SSLContext:
        """A client context trusting the dev CA, presenting ``client``'s certificate (or none)."""
        context = ssl.create_default_context(cafile=str(self.dev.ca_cert))
        if client is not None:
            context.load_cert_chain(
                self.clients / f"{client}.pem", self.clients / f"{client}-key.pem"
            )
        if version is not None:
            context.minimum_version = context.maximum_version = version
        return context

    def chat(self, client: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.post(
            f"{self.url}/v1/chat/completions",
            json=CHAT,
            headers=headers or {},
            verify=self.tls(client),
            timeout=30,
        )

    def audited_as(self, response: httpx.Response) -> dict[str, Any]:
        """The audit record of ``response``'s request (its last one)."""
        request_id = response.headers["x-request-id"]
        found = json.loads(
            run_cli(self.env, "audit", "search", "--request-id", request_id, "--json")
        )
        assert found["records"], f"no audit record for {request_id}"
        record: dict[str, Any] = found["records"][0]
        return record


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MutualTlsGateway]:
    work = tmp_path_factory.mktemp("mtls")
    dev = init_dev_certs(work / "certs")
    env = instant_gateway_env(work, ENCLAVE_CLIENT_CA_FILE=str(dev.ca_cert))
    token = prepare_identity(env)  # tenant acme (engineering) and an app token for it
    for tenant, department in (("globex", "research"), ("initech", "support")):
        run_cli(env, "tenants", "create", tenant, "--department", department)
    for tenant in ("acme", "globex", "initech", "nobody"):
        run_cli(env, "certs", "client", "--tenant", tenant)
    clients = dev.ca_cert.parent / "clients"
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    issue_client_cert(dev.ca_cert.parent, "acme", name="expired", days=1, valid_from=start)
    stranger = init_dev_certs(work / "stranger-ca")
    issue_client_cert(stranger.ca_cert.parent, "acme", name="wrong-ca", out_dir=clients)
    (clients / "server.pem").write_bytes(dev.server_cert.read_bytes())
    (clients / "server-key.pem").write_bytes(dev.server_key.read_bytes())
    ready = ssl.create_default_context(cafile=str(dev.ca_cert))
    ready.load_cert_chain(clients / "acme.pem", clients / "acme-key.pem")
    with running_gateway(env, ready, work / "server.log") as url:
        yield MutualTlsGateway(url, int(env["ENCLAVE_PORT"]), dev, clients, env, token)


def answer(gateway: MutualTlsGateway, context: ssl.SSLContext) -> bytes:
    """The first bytes of the answer to one request on a raw TLS socket; b"" if it was cut off.

    In TLS 1.2 a refused certificate ends the handshake; in TLS 1.3 the client's side of
    the handshake is done before the server has checked it, so the refusal shows as the
    connection closing before any answer.
    """
    try:
        with (
            socket.create_connection(("127.0.0.1", gateway.port), timeout=SOCKET_TIMEOUT) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            tls.sendall(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
            return tls.recv(12)
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return b""


# --- who the request is served as -----------------------------------------------------------


def test_a_valid_certificate_is_served_as_its_tenant(gateway: MutualTlsGateway) -> None:
    response = gateway.chat("acme")
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"]
    record = gateway.audited_as(response)
    assert (record["tenant"], record["department"]) == ("acme", "engineering")
    assert record["subject"] == "acme"
    assert record["roles"] == ["app"]


def test_identity_headers_cannot_change_who_the_certificate_is(
    gateway: MutualTlsGateway,
) -> None:
    globex_pem = (gateway.clients / "globex.pem").read_text()
    headers = {
        **SPOOFED_IDENTITY_HEADERS,
        "x-client-cert": urllib.parse.quote(globex_pem),
        "x-ssl-client-cert": globex_pem.strip().replace("\n", " "),
    }
    response = gateway.chat("acme", headers)
    assert response.status_code == 200, response.text
    record = gateway.audited_as(response)
    assert (record["tenant"], record["department"], record["subject"]) == (
        "acme",
        "engineering",
        "acme",
    )


def test_a_token_must_belong_to_the_certificates_tenant(gateway: MutualTlsGateway) -> None:
    globex_token = run_cli(
        gateway.env, "tokens", "issue", "--tenant", "globex", "--roles", "app", "--ttl", "1h", "-q"
    )
    refused = gateway.chat("acme", {"authorization": f"Bearer {globex_token}"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "certificate_tenant_mismatch"
    served = gateway.chat("acme", {"authorization": f"Bearer {gateway.acme_token}"})
    assert served.status_code == 200, served.text
    assert gateway.audited_as(served)["tenant"] == "acme"


def test_a_certificate_for_an_unknown_tenant_is_401(gateway: MutualTlsGateway) -> None:
    response = gateway.chat("nobody")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_client_certificate"


def test_a_suspended_tenant_is_403_until_resumed(gateway: MutualTlsGateway) -> None:
    assert gateway.chat("initech").status_code == 200
    run_cli(gateway.env, "tenants", "suspend", "initech")
    refused = gateway.chat("initech")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "tenant_suspended"
    run_cli(gateway.env, "tenants", "resume", "initech")
    assert gateway.chat("initech").status_code == 200


# --- certificates the handshake refuses -----------------------------------------------------


@pytest.mark.parametrize(
    "client",
    [
        pytest.param(None, id="no-certificate"),
        pytest.param("wrong-ca", id="signed-by-another-ca"),
        pytest.param("expired", id="expired"),
        pytest.param("server", id="server-certificate-not-for-clients"),
    ],
)
@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_the_handshake_refuses_missing_and_invalid_certificates(
    gateway: MutualTlsGateway, client: str | None, version: ssl.TLSVersion
) -> None:
    assert answer(gateway, gateway.tls("acme", version)) == b"HTTP/1.1 200"
    assert answer(gateway, gateway.tls(client, version)) == b""
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{gateway.url}/healthz", verify=gateway.tls(client), timeout=30)


def test_headers_do_not_stand_in_for_a_missing_certificate(gateway: MutualTlsGateway) -> None:
    acme_pem = (gateway.clients / "acme.pem").read_text()
    headers = {
        **SPOOFED_IDENTITY_HEADERS,
        "x-tenant": "acme",
        "x-client-cert": urllib.parse.quote(acme_pem),
    }
    with pytest.raises(httpx.TransportError):
        httpx.post(
            f"{gateway.url}/v1/chat/completions",
            json=CHAT,
            headers=headers,
            verify=gateway.tls(None),
            timeout=30,
        )
