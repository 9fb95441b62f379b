"""What reaches the port: TLS 1.2+ only, no plain HTTP, a certificate clients can verify."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest

from tests.e2e.conftest import RunningGateway

pytestmark = pytest.mark.e2e


def handshake(gateway: RunningGateway, context: ssl.SSLContext) -> str:
    with (
        socket.create_connection((gateway.host, gateway.port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return tls.version() or ""


def test_tls13_and_tls12_with_the_generated_ca(gateway: RunningGateway) -> None:
    assert handshake(gateway, gateway.ssl_context()) == "TLSv1.3"
    context = gateway.ssl_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    assert handshake(gateway, context) == "TLSv1.2"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_old_tls_versions_are_refused(gateway: RunningGateway, version: ssl.TLSVersion) -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(gateway.ca_file))
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.minimum_version = version
    context.maximum_version = version
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        handshake(gateway, context)


def test_clients_that_do_not_trust_the_ca_fail_verification(gateway: RunningGateway) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{gateway.base_url}/healthz", verify=ssl.create_default_context())


def test_plain_http_gets_no_answer(gateway: RunningGateway) -> None:
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://{gateway.host}:{gateway.port}/healthz", timeout=10)


def test_health_and_readiness_over_https(gateway: RunningGateway) -> None:
    context = gateway.ssl_context()
    assert httpx.get(f"{gateway.base_url}/healthz", verify=context).json() == {"status": "ok"}
    ready = httpx.get(f"{gateway.base_url}/readyz", verify=context).json()
    assert ready["checks"]["engine"] == {"ready": True, "device": "cpu", "detail": ""}


def test_inference_answers_carry_rate_limit_headers(gateway: RunningGateway) -> None:
    with gateway.client() as client:
        raw = client.chat.completions.with_raw_response.create(
            model=gateway.model, messages=[{"role": "user", "content": "hi"}], max_tokens=2
        )
    assert int(raw.headers["x-ratelimit-limit-requests"]) > 0
    assert int(raw.headers["x-ratelimit-remaining-requests"]) >= 0
    assert raw.headers["x-ratelimit-reset-tokens"]
