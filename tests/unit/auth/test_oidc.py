"""Tokens of trusted external OIDC issuers, verified against a real JWKS served over HTTP(S).

Every test goes through ``TokenVerifier(external=load_trusted_issuers(...))`` unless it
checks a layer below the header checks on purpose; the identity provider is a real
``http.server`` on 127.0.0.1 that counts how often its key set is fetched.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from structlog.testing import capture_logs

from gateway.auth.directory import TenantStatus
from gateway.auth.oidc import MAX_JWKS_BYTES, JwksUnavailable, load_trusted_issuers, parse_jwks
from gateway.auth.principal import Principal
from gateway.auth.trusted_issuers import read_trusted_issuers
from gateway.auth.verify import TokenVerifier
from gateway.errors import ConfigurationError, GatewayError, ServiceUnavailableError
from gateway.tls.certs import init_dev_certs
from gateway.tls.context import server_ssl_context
from tests.support.identity import AUDIENCE, ISSUER, MemoryDirectory

pytestmark = pytest.mark.anyio

IDP_ISSUER = "https://idp.example.test/realms/corp"
IDP_AUDIENCE = "enclave-gateway"
DROP = object()
"""Claim or config value meaning 'leave this one out'."""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class SigningKey:
    """A key the fake identity provider signs with, and its public JWK."""

    kid: str
    private_key: Any
    algorithm: str

    def jwk(self, **extra: Any) -> dict[str, Any]:
        public = self.private_key.public_key()
        data: dict[str, Any] = jwt.get_algorithm_by_name(self.algorithm).to_jwk(
            public, as_dict=True
        )
        return data | {"kid": self.kid, "use": "sig"} | extra

    def public_pem(self) -> bytes:
        return bytes(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


@pytest.fixture(scope="module")
def rsa_key() -> SigningKey:
    return SigningKey("rsa-2025", rsa.generate_private_key(65537, 2048), "RS256")


@pytest.fixture(scope="module")
def next_rsa_key() -> SigningKey:
    return SigningKey("rsa-2026", rsa.generate_private_key(65537, 2048), "RS256")


@pytest.fixture(scope="module")
def ec_key() -> SigningKey:
    return SigningKey("ec-p256", ec.generate_private_key(ec.SECP256R1()), "ES256")


def mint(key: SigningKey, *, kid: str | None = None, alg: str | None = None, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": IDP_ISSUER,
        "aud": IDP_AUDIENCE,
        "sub": "user-42",
        "enclave_tenant": "acme",
        "department": "engineering",
        "roles": ["app", "compliance", "offline_access"],
        "iat": now,
        "exp": now + 600,
        "jti": "idp-token-1",
    } | claims
    payload = {name: value for name, value in payload.items() if value is not DROP}
    headers = {"kid": kid or key.kid}
    return jwt.encode(payload, key.private_key, algorithm=alg or key.algorithm, headers=headers)


def bearer(token: str) -> str:
    return f"Bearer {token}"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class FakeIdentityProvider:
    """What the JWKS endpoint serves, and how often it was asked."""

    keys: list[dict[str, Any]]
    status: int = 200
    delay: float = 0.0
    drip_interval: float = 0.0
    raw_body: bytes | None = None
    url: str = ""
    requests: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> tuple[int, bytes]:
        with self.lock:
            self.requests += 1
        if self.delay:
            self.release.wait(self.delay)
        body = self.raw_body or json.dumps({"keys": self.keys}).encode()
        return self.status, body


class JwksHandler(BaseHTTPRequestHandler):
    server: JwksServer

    def do_GET(self) -> None:
        status, body = self.server.provider.answer()
        self.send_response(status)
        if status in (301, 302):
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        drip = self.server.provider.drip_interval
        if not drip:
            self.wfile.write(body)
            return
        for offset in range(len(body)):  # one byte at a time: each read is quick, the whole slow
            self.wfile.write(body[offset : offset + 1])
            if self.server.provider.release.wait(drip):
                return

    def log_message(self, format: str, *args: Any) -> None:
        pass


class JwksServer(ThreadingHTTPServer):
    daemon_threads = False  # join handler threads on close: no thread outlives a test

    def __init__(self, provider: FakeIdentityProvider) -> None:
        super().__init__(("127.0.0.1", 0), JwksHandler)
        self.provider = provider

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout test) leaves a broken pipe behind


@contextmanager
def serving(
    provider: FakeIdentityProvider, tls: ssl.SSLContext | None = None
) -> Iterator[FakeIdentityProvider]:
    server = JwksServer(provider)
    scheme = "http"
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    provider.url = f"{scheme}://localhost:{server.server_port}/jwks"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield provider
    finally:
        provider.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def idp(rsa_key: SigningKey) -> Iterator[FakeIdentityProvider]:
    with serving(FakeIdentityProvider(keys=[rsa_key.jwk()])) as provider:
        yield provider


@dataclass
class ManualClock:
    """The monotonic clock the JWKS cache reads; tests move it instead of sleeping."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def directory() -> MemoryDirectory:
    directory = MemoryDirectory()
    for name, department, active in [
        ("acme", "engineering", True),
        ("globex", "finance", True),
        ("dormant", "engineering", False),
    ]:
        directory.tenants[name] = TenantStatus(name=name, department=department, active=active)
    return directory


def issuer_table(**fields: Any) -> dict[str, Any]:
    table = {
        "issuer": IDP_ISSUER,
        "audience": IDP_AUDIENCE,
        "tenant_claim": "enclave_tenant",
        "department_claim": "department",
    } | fields
    return {name: value for name, value in table.items() if value is not DROP}


def write_issuers(path: Path, *tables: dict[str, Any]) -> Path:
    lines: list[str] = []
    for table in tables:
        lines.append("[[issuer]]")
        lines += [f"{name} = {json.dumps(value)}" for name, value in table.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


BuildVerifier = Callable[..., TokenVerifier]


@pytest.fixture
def build(
    tmp_path: Path, directory: MemoryDirectory, clock: ManualClock, idp: FakeIdentityProvider
) -> BuildVerifier:
    """A TokenVerifier trusting one issuer; keyword arguments change its table."""

    def build(*extra_tables: dict[str, Any], **fields: Any) -> TokenVerifier:
        table = issuer_table(jwks_url=idp.url) | fields
        table = {name: value for name, value in table.items() if value is not DROP}
        path = write_issuers(tmp_path / "issuers.toml", table, *extra_tables)
        external = load_trusted_issuers(path, directory, clock=clock)
        return TokenVerifier(
            issuer=ISSUER, audience=AUDIENCE, directory=directory, external=external
        )

    return build


@pytest.fixture
def verifier(build: BuildVerifier) -> TokenVerifier:
    return build()


async def refused(verifier: TokenVerifier, token: str, status: int = 401) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        await verifier.authenticate(bearer(token))
    assert caught.value.status_code == status, caught.value.message
    return caught.value


# --- the happy path and claim mapping -------------------------------------------------


async def test_valid_token_gives_principal(
    verifier: TokenVerifier, rsa_key: SigningKey, idp: FakeIdentityProvider
) -> None:
    principal = await verifier.authenticate(bearer(mint(rsa_key)))
    assert principal == Principal(
        tenant="acme",
        department="engineering",
        subject="user-42",
        roles=frozenset({"app", "compliance"}),
        token_id="idp-token-1",
        issuer=IDP_ISSUER,
    )
    assert idp.requests == 1


async def test_ec_key_without_alg_in_jwk(
    build: BuildVerifier, idp: FakeIdentityProvider, ec_key: SigningKey
) -> None:
    idp.keys = [ec_key.jwk()]
    principal = await build().authenticate(bearer(mint(ec_key)))
    assert principal.tenant == "acme"


async def test_roles_as_space_separated_string_and_custom_claim(
    build: BuildVerifier, rsa_key: SigningKey
) -> None:
    verifier = build(roles_claim="enclave_roles", grantable_roles=["app", "admin"])
    token = mint(rsa_key, roles=DROP, enclave_roles="admin app superuser")
    principal = await verifier.authenticate(bearer(token))
    assert principal.roles == frozenset({"admin", "app"})


async def test_an_identity_provider_cannot_grant_admin_unless_listed(
    build: BuildVerifier, rsa_key: SigningKey
) -> None:
    token = mint(rsa_key, roles=["admin", "app", "compliance"])
    principal = await build().authenticate(bearer(token))
    assert principal.roles == frozenset({"app", "compliance"})
    only_app = await build(grantable_roles=["app"]).authenticate(bearer(token))
    assert only_app.roles == frozenset({"app"})


def test_unknown_grantable_roles_are_a_configuration_error(build: BuildVerifier) -> None:
    with pytest.raises(ConfigurationError, match="grantable_roles: unknown role"):
        build(grantable_roles=["app", "root"])


async def test_absent_roles_claim_grants_no_role(
    verifier: TokenVerifier, rsa_key: SigningKey
) -> None:
    principal = await verifier.authenticate(bearer(mint(rsa_key, roles=DROP)))
    assert principal.roles == frozenset()


async def test_malformed_roles_claim(verifier: TokenVerifier, rsa_key: SigningKey) -> None:
    error = await refused(verifier, mint(rsa_key, roles={"app": True}))
    assert "roles" in error.message


async def test_token_without_jti_has_no_token_id(
    verifier: TokenVerifier, rsa_key: SigningKey
) -> None:
    principal = await verifier.authenticate(bearer(mint(rsa_key, jti=DROP)))
    assert principal.token_id is None


async def test_department_comes_from_enclave_when_not_mapped(
    build: BuildVerifier, rsa_key: SigningKey
) -> None:
    verifier = build(department_claim=DROP)
    token = mint(rsa_key, enclave_tenant="globex", department="engineering")
    principal = await verifier.authenticate(bearer(token))
    assert (principal.tenant, principal.department) == ("globex", "finance")


# --- issuer, audience and time claims ----------------------------------------------------


@pytest.mark.parametrize("audience", ["enclave", "enclave-gateway-x", ["enclave-gateway"], ["x"]])
async def test_wrong_audience(verifier: TokenVerifier, rsa_key: SigningKey, audience: Any) -> None:
    error = await refused(verifier, mint(rsa_key, aud=audience))
    assert "audience" in error.message


async def test_missing_audience(verifier: TokenVerifier, rsa_key: SigningKey) -> None:
    await refused(verifier, mint(rsa_key, aud=DROP))


@pytest.mark.parametrize(
    "issuer",
    [
        f"{IDP_ISSUER}/",
        IDP_ISSUER[:-1],
        f"{IDP_ISSUER}-evil",
        IDP_ISSUER.upper(),
        "https://idp.example.test/realms/other",
    ],
)
async def test_partial_or_other_issuer(
    verifier: TokenVerifier, rsa_key: SigningKey, idp: FakeIdentityProvider, issuer: str
) -> None:
    error = await refused(verifier, mint(rsa_key, iss=issuer))
    assert "not trusted" in error.message
    assert idp.requests == 0


async def test_expired(verifier: TokenVerifier, rsa_key: SigningKey) -> None:
    now = int(time.time())
    error = await refused(verifier, mint(rsa_key, iat=now - 3600, exp=now - 90))
    assert error.code == "token_expired"


async def test_expiry_within_60_seconds_leeway(
    verifier: TokenVerifier, rsa_key: SigningKey
) -> None:
    now = int(time.time())
    assert await verifier.authenticate(bearer(mint(rsa_key, iat=now - 600, exp=now - 30)))


async def test_not_before_in_the_future(verifier: TokenVerifier, rsa_key: SigningKey) -> None:
    error = await refused(verifier, mint(rsa_key, nbf=int(time.time()) + 300))
    assert "not valid yet" in error.message


async def test_issued_in_the_future(verifier: TokenVerifier, rsa_key: SigningKey) -> None:
    await refused(verifier, mint(rsa_key, iat=int(time.time()) + 300))


@pytest.mark.parametrize("claim", ["exp", "iat", "sub"])
async def test_required_claims(verifier: TokenVerifier, rsa_key: SigningKey, claim: str) -> None:
    without: dict[str, Any] = {claim: DROP}
    error = await refused(verifier, mint(rsa_key, **without))
    assert claim in error.message


# --- tenants and departments -------------------------------------------------------------


async def test_missing_tenant_claim(verifier: TokenVerifier, rsa_key: SigningKey) -> None:
    error = await refused(verifier, mint(rsa_key, enclave_tenant=DROP))
    assert "enclave_tenant" in error.message


async def test_unknown_tenant_is_401(verifier: TokenVerifier, rsa_key: SigningKey) -> None:
    error = await refused(verifier, mint(rsa_key, enclave_tenant="initech"))
    assert "tenant" in error.message


async def test_suspended_tenant_is_403(verifier: TokenVerifier, rsa_key: SigningKey) -> None:
    error = await refused(verifier, mint(rsa_key, enclave_tenant="dormant"), status=403)
    assert error.code == "tenant_suspended"


async def test_department_mismatch_is_403(verifier: TokenVerifier, rsa_key: SigningKey) -> None:
    token = mint(rsa_key, enclave_tenant="globex", department="engineering")
    error = await refused(verifier, token, status=403)
    assert error.code == "department_mismatch"


async def test_mapped_department_claim_must_be_present(
    verifier: TokenVerifier, rsa_key: SigningKey
) -> None:
    error = await refused(verifier, mint(rsa_key, department=DROP))
    assert "department" in error.message


async def test_issuer_limited_to_listed_tenants(build: BuildVerifier, rsa_key: SigningKey) -> None:
    verifier = build(tenants=["acme"], department_claim=DROP)
    assert await verifier.authenticate(bearer(mint(rsa_key)))
    error = await refused(verifier, mint(rsa_key, enclave_tenant="globex"), status=403)
    assert error.code == "tenant_not_allowed"


# --- algorithms and key types ------------------------------------------------------------


async def test_algorithm_outside_the_allow_list(
    build: BuildVerifier, idp: FakeIdentityProvider, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    idp.keys = [rsa_key.jwk(), ec_key.jwk()]
    verifier = build(algorithms=["RS256"])
    error = await refused(verifier, mint(ec_key))
    assert "algorithm" in error.message
    assert idp.requests == 0  # refused before any key is fetched


async def test_header_alg_must_match_the_jwk_alg(
    build: BuildVerifier, idp: FakeIdentityProvider, rsa_key: SigningKey
) -> None:
    idp.keys = [rsa_key.jwk(alg="RS256")]
    verifier = build(algorithms=["RS256", "PS256"])
    error = await refused(verifier, mint(rsa_key, alg="PS256"))
    assert "algorithm" in error.message
    assert await verifier.authenticate(bearer(mint(rsa_key)))


async def test_without_jwk_alg_any_allowed_algorithm_of_the_key_type(
    build: BuildVerifier, rsa_key: SigningKey
) -> None:
    verifier = build(algorithms=["RS256", "PS256"])
    assert await verifier.authenticate(bearer(mint(rsa_key, alg="PS256")))


async def test_header_alg_must_fit_the_key_type(
    build: BuildVerifier, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    forged = mint(ec_key, kid=rsa_key.kid)  # ES256 under the RSA key's kid
    error = await refused(build(), forged)
    assert "algorithm" in error.message


def hs256_with_public_key(key: SigningKey) -> str:
    header = b64(json.dumps({"alg": "HS256", "kid": key.kid, "typ": "JWT"}).encode())
    payload = mint(key).split(".")[1]
    mac = hmac.new(key.public_pem(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(mac)}"


async def test_hs256_signed_with_the_rsa_public_key_pem(
    verifier: TokenVerifier, rsa_key: SigningKey
) -> None:
    error = await refused(verifier, hs256_with_public_key(rsa_key))
    assert "algorithm" in error.message


async def test_hs256_refused_even_past_the_header_checks(
    tmp_path: Path,
    directory: MemoryDirectory,
    idp: FakeIdentityProvider,
    rsa_key: SigningKey,
) -> None:
    path = write_issuers(tmp_path / "issuers.toml", issuer_table(jwks_url=idp.url))
    issuer = load_trusted_issuers(path, directory)[IDP_ISSUER]
    token = hs256_with_public_key(rsa_key)
    with pytest.raises(GatewayError, match="algorithm"):
        await issuer.verify(token, jwt.get_unverified_header(token))


async def test_oct_keys_in_the_jwks_are_never_used(
    build: BuildVerifier, idp: FakeIdentityProvider, rsa_key: SigningKey
) -> None:
    secret = b"a shared secret that must never verify anything"
    idp.keys = [rsa_key.jwk(), {"kty": "oct", "kid": "shared", "k": b64(secret), "alg": "HS256"}]
    verifier = build()
    hmac_token = jwt.encode(
        {"iss": IDP_ISSUER}, secret, algorithm="HS256", headers={"kid": "shared"}
    )
    await refused(verifier, hmac_token)
    error = await refused(verifier, mint(rsa_key, kid="shared"))
    assert "unknown key" in error.message
    assert await verifier.authenticate(bearer(mint(rsa_key)))


def test_parse_jwks_keeps_only_public_signing_keys(
    rsa_key: SigningKey, next_rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    private = rsa_key.private_key.private_numbers()
    document = json.dumps(
        {
            "keys": [
                rsa_key.jwk(),
                {"kty": "oct", "kid": "shared", "k": b64(b"secret"), "alg": "HS256"},
                rsa_key.jwk(kid="private", d=b64(private.d.to_bytes(256, "big"))),
                next_rsa_key.jwk(kid="encryption", use="enc"),
                next_rsa_key.jwk(kid="wrap-only", key_ops=["wrapKey"]),
                next_rsa_key.jwk(kid="claims-es256", alg="ES256"),
                next_rsa_key.jwk(kid="../etc/passwd"),
                ec_key.jwk(kid="twice"),
                next_rsa_key.jwk(kid="twice"),
                ec_key.jwk(crv="P-999", kid="odd-curve"),
                "not a key",
            ]
        }
    ).encode()
    keys = parse_jwks(document, frozenset({"RS256", "ES256", "HS256"}))
    assert sorted(keys) == [rsa_key.kid]


@pytest.mark.parametrize("document", [b"<html>", b"[]", b'{"keys": {}}'])
def test_parse_jwks_refuses_what_is_not_a_key_set(document: bytes) -> None:
    with pytest.raises(JwksUnavailable):
        parse_jwks(document, frozenset({"RS256"}))


async def test_keys_of_one_issuer_never_verify_another(
    tmp_path: Path, build: BuildVerifier, rsa_key: SigningKey, ec_key: SigningKey
) -> None:
    partner_jwks = tmp_path / "partner-jwks.json"
    partner_jwks.write_text(json.dumps({"keys": [ec_key.jwk()]}))
    partner = issuer_table(issuer="https://partner.example.test", jwks_file="partner-jwks.json")
    verifier = build(partner)
    assert await verifier.authenticate(bearer(mint(ec_key, iss="https://partner.example.test")))
    error = await refused(verifier, mint(ec_key))  # corp's iss, partner's key
    assert "unknown key" in error.message


# --- the JWKS cache: refresh, rotation, bursts -------------------------------------------


async def test_keys_are_cached(
    verifier: TokenVerifier, rsa_key: SigningKey, idp: FakeIdentityProvider, clock: ManualClock
) -> None:
    for _ in range(5):
        await verifier.authenticate(bearer(mint(rsa_key)))
        clock.advance(50)
    assert idp.requests == 1


async def test_keys_refetched_once_older_than_the_refresh_interval(
    verifier: TokenVerifier, rsa_key: SigningKey, idp: FakeIdentityProvider, clock: ManualClock
) -> None:
    await verifier.authenticate(bearer(mint(rsa_key)))
    idp.keys = []  # the IdP withdrew the key
    clock.advance(299)
    assert await verifier.authenticate(bearer(mint(rsa_key)))
    clock.advance(1)
    error = await refused(verifier, mint(rsa_key))
    assert "unknown key" in error.message
    assert idp.requests == 2


async def test_stale_refresh_in_flight_does_not_hold_up_other_requests(
    verifier: TokenVerifier, rsa_key: SigningKey, idp: FakeIdentityProvider, clock: ManualClock
) -> None:
    await verifier.authenticate(bearer(mint(rsa_key)))
    clock.advance(301)
    idp.delay = 1.0
    refreshing = asyncio.create_task(verifier.authenticate(bearer(mint(rsa_key))))
    await asyncio.sleep(0.1)  # the refresh is now waiting for the slow provider
    principal = await asyncio.wait_for(verifier.authenticate(bearer(mint(rsa_key))), 0.5)
    assert principal.tenant == "acme"
    assert not refreshing.done()
    assert (await refreshing).tenant == "acme"
    assert idp.requests == 2


async def test_burst_of_unknown_kids_makes_one_fetch(
    verifier: TokenVerifier,
    rsa_key: SigningKey,
    next_rsa_key: SigningKey,
    idp: FakeIdentityProvider,
    clock: ManualClock,
) -> None:
    await verifier.authenticate(bearer(mint(rsa_key)))
    clock.advance(31)
    idp.delay = 0.1  # the fetch is slow enough for every request to pile up behind it
    tokens = [mint(next_rsa_key, kid=f"unknown-{n}") for n in range(20)]
    outcomes = await asyncio.gather(
        *(verifier.authenticate(bearer(token)) for token in tokens), return_exceptions=True
    )
    assert all(isinstance(outcome, GatewayError) for outcome in outcomes)
    assert {outcome.status_code for outcome in outcomes if isinstance(outcome, GatewayError)} == {
        401
    }
    assert idp.requests == 2
    await refused(verifier, mint(next_rsa_key, kid="unknown-again"))
    assert idp.requests == 2


async def test_concurrent_first_use_shares_one_fetch(
    verifier: TokenVerifier, rsa_key: SigningKey, idp: FakeIdentityProvider
) -> None:
    idp.delay = 0.1
    principals = await asyncio.gather(
        *(verifier.authenticate(bearer(mint(rsa_key))) for _ in range(20))
    )
    assert {principal.tenant for principal in principals} == {"acme"}
    assert idp.requests == 1


async def test_key_rotation_picked_up_after_the_min_interval(
    verifier: TokenVerifier,
    rsa_key: SigningKey,
    next_rsa_key: SigningKey,
    idp: FakeIdentityProvider,
    clock: ManualClock,
) -> None:
    await verifier.authenticate(bearer(mint(rsa_key)))
    idp.keys = [next_rsa_key.jwk()]  # rotation at the IdP
    clock.advance(5)
    error = await refused(verifier, mint(next_rsa_key))
    assert "unknown key" in error.message
    assert idp.requests == 1
    clock.advance(26)
    principal = await verifier.authenticate(bearer(mint(next_rsa_key)))
    assert principal.subject == "user-42"
    assert idp.requests == 2
    await refused(verifier, mint(rsa_key))  # the retired key is gone with the refresh
    assert idp.requests == 2


async def test_jwks_file_is_read_again_on_refresh(
    tmp_path: Path,
    directory: MemoryDirectory,
    clock: ManualClock,
    rsa_key: SigningKey,
    next_rsa_key: SigningKey,
) -> None:
    key_file = tmp_path / "jwks.json"
    key_file.write_text(json.dumps({"keys": [rsa_key.jwk()]}))
    path = write_issuers(tmp_path / "issuers.toml", issuer_table(jwks_file="jwks.json"))
    verifier = TokenVerifier(
        issuer=ISSUER,
        audience=AUDIENCE,
        directory=directory,
        external=load_trusted_issuers(path, directory, clock=clock),
    )
    assert await verifier.authenticate(bearer(mint(rsa_key)))
    key_file.write_text(json.dumps({"keys": [next_rsa_key.jwk()]}))
    clock.advance(31)
    assert await verifier.authenticate(bearer(mint(next_rsa_key)))


# --- an unreachable, failing or slow identity provider -----------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_provider_down_at_first_use_is_503(build: BuildVerifier, rsa_key: SigningKey) -> None:
    verifier = build(jwks_url=f"http://127.0.0.1:{closed_port()}/jwks")
    error = await refused(verifier, mint(rsa_key), status=503)
    assert isinstance(error, ServiceUnavailableError)
    assert error.code == "identity_provider_unavailable"


@pytest.mark.parametrize("status", [302, 404, 500, 503])
async def test_provider_error_at_first_use_is_503_and_retried_after_min_interval(
    verifier: TokenVerifier,
    rsa_key: SigningKey,
    idp: FakeIdentityProvider,
    clock: ManualClock,
    status: int,
) -> None:
    idp.status = status
    await refused(verifier, mint(rsa_key), status=503)
    await refused(verifier, mint(rsa_key), status=503)
    assert idp.requests == 1  # no hammering of a failing provider
    idp.status = 200
    clock.advance(30)
    assert await verifier.authenticate(bearer(mint(rsa_key)))
    assert idp.requests == 2


@pytest.mark.parametrize(
    "body", [b"<html>maintenance</html>", b'{"keys": [' + b" " * MAX_JWKS_BYTES + b"]}"]
)
async def test_provider_answering_garbage_is_503(
    verifier: TokenVerifier, rsa_key: SigningKey, idp: FakeIdentityProvider, body: bytes
) -> None:
    idp.raw_body = body
    await refused(verifier, mint(rsa_key), status=503)


async def test_provider_down_later_keeps_the_cached_keys(
    verifier: TokenVerifier, rsa_key: SigningKey, idp: FakeIdentityProvider, clock: ManualClock
) -> None:
    token = mint(rsa_key)
    await verifier.authenticate(bearer(token))
    idp.status = 500
    clock.advance(301)
    with capture_logs() as logs:
        assert await verifier.authenticate(bearer(token))
    assert idp.requests == 2
    [warning] = [entry for entry in logs if entry["event"] == "oidc_jwks_unavailable"]
    assert warning["log_level"] == "warning"
    assert warning["issuer"] == IDP_ISSUER
    assert "500" in warning["reason"]
    assert token not in repr(logs)


async def test_slow_provider_beyond_the_timeout_is_503(
    build: BuildVerifier, rsa_key: SigningKey, idp: FakeIdentityProvider
) -> None:
    idp.delay = 10
    verifier = build(fetch_timeout_seconds=0.3)
    started = time.monotonic()
    error = await refused(verifier, mint(rsa_key), status=503)
    assert time.monotonic() - started < 2
    assert error.code == "identity_provider_unavailable"


async def test_slowly_dripping_provider_hits_the_whole_fetch_deadline(
    build: BuildVerifier, rsa_key: SigningKey, idp: FakeIdentityProvider
) -> None:
    idp.drip_interval = 0.05
    verifier = build(fetch_timeout_seconds=0.3)
    started = time.monotonic()
    await refused(verifier, mint(rsa_key), status=503)
    assert time.monotonic() - started < 2


async def test_https_jwks_with_a_private_ca(
    tmp_path: Path,
    directory: MemoryDirectory,
    idp: FakeIdentityProvider,
    rsa_key: SigningKey,
) -> None:
    certs = init_dev_certs(tmp_path / "certs")
    tls = server_ssl_context(certs.server_cert, certs.server_key)
    with serving(FakeIdentityProvider(keys=[rsa_key.jwk()]), tls=tls) as provider:
        trusted = issuer_table(jwks_url=provider.url, ca_file="certs/ca.pem")
        untrusted = issuer_table(issuer="https://other.example.test", jwks_url=provider.url)
        path = write_issuers(tmp_path / "issuers.toml", trusted, untrusted)
        issuers = load_trusted_issuers(path, directory)
        verifier = TokenVerifier(
            issuer=ISSUER, audience=AUDIENCE, directory=directory, external=issuers
        )
        assert await verifier.authenticate(bearer(mint(rsa_key)))
        other = mint(rsa_key, iss="https://other.example.test")
        await refused(verifier, other, status=503)  # the dev CA is not a default root
        assert provider.requests == 1


# --- the configuration file --------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"jwks_file": "jwks.json"}, "exactly one"),
        ({"jwks_url": DROP}, "exactly one"),
        ({"jwks_url": "http://idp.example.test/jwks"}, "must use https"),
        ({"jwks_url": "ftp://127.0.0.1/jwks"}, "must use https"),
        ({"jwks_url": "https://user:pw@idp.example.test/jwks"}, "credentials"),
        ({"jwks_url": "https:///jwks"}, "host"),
        ({"tenant_claims": "tenant"}, "unknown field `tenant_claims`"),
        ({"tenant_claim": DROP}, "tenant_claim"),
        ({"audience": ""}, "audience"),
        ({"algorithms": ["HS256"]}, "'HS256' is never allowed"),
        ({"algorithms": ["RS256", "none"]}, "'none' is never allowed"),
        ({"algorithms": ["hs512"]}, "never allowed"),
        ({"algorithms": ["RS1"]}, "not supported"),
        ({"algorithms": []}, "at least one"),
        ({"fetch_timeout_seconds": 0}, "fetch_timeout_seconds"),
        ({"min_refresh_interval_seconds": 600}, "must not exceed refresh_interval_seconds"),
        ({"refresh_interval_seconds": "5m"}, "refresh_interval_seconds"),
        ({"tenants": []}, "tenants"),
        ({"department_claim": ""}, "department_claim"),
    ],
)
def test_configuration_errors(
    tmp_path: Path,
    directory: MemoryDirectory,
    idp: FakeIdentityProvider,
    fields: dict[str, Any],
    problem: str,
) -> None:
    table = issuer_table(jwks_url=idp.url) | fields
    table = {name: value for name, value in table.items() if value is not DROP}
    path = write_issuers(tmp_path / "issuers.toml", table)
    with pytest.raises(ConfigurationError, match=r"issuers\.toml") as caught:
        load_trusted_issuers(path, directory)
    assert problem in str(caught.value)
    assert idp.requests == 0  # nothing is fetched at start-up


def test_duplicate_issuers(tmp_path: Path, directory: MemoryDirectory) -> None:
    table = issuer_table(jwks_url="https://idp.example.test/jwks")
    path = write_issuers(tmp_path / "issuers.toml", table, table)
    with pytest.raises(ConfigurationError, match="listed 2 times"):
        load_trusted_issuers(path, directory)


def test_unknown_top_level_table(tmp_path: Path, directory: MemoryDirectory) -> None:
    path = tmp_path / "issuers.toml"
    path.write_text('[[issuers]]\nissuer = "x"\n')
    with pytest.raises(ConfigurationError, match="unknown field `issuers`"):
        load_trusted_issuers(path, directory)


@pytest.mark.parametrize("content", [None, "[[issuer]\n", "issuer = 3\n"])
def test_unreadable_or_malformed_file(
    tmp_path: Path, directory: MemoryDirectory, content: str | None
) -> None:
    path = tmp_path / "issuers.toml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigurationError, match=r"issuers\.toml"):
        load_trusted_issuers(path, directory)


@pytest.mark.parametrize(
    ("key_file_content", "problem"),
    [(None, "No such file"), ("{}", "no 'keys' list"), ('{"keys": []}', "no usable signing key")],
)
def test_jwks_file_checked_at_start_up(
    tmp_path: Path, directory: MemoryDirectory, key_file_content: str | None, problem: str
) -> None:
    if key_file_content is not None:
        (tmp_path / "jwks.json").write_text(key_file_content)
    path = write_issuers(tmp_path / "issuers.toml", issuer_table(jwks_file="jwks.json"))
    with pytest.raises(ConfigurationError, match="jwks_file") as caught:
        load_trusted_issuers(path, directory)
    assert problem in str(caught.value)


def test_missing_ca_file(tmp_path: Path, directory: MemoryDirectory) -> None:
    table = issuer_table(jwks_url="https://idp.example.test/jwks", ca_file="missing-ca.pem")
    path = write_issuers(tmp_path / "issuers.toml", table)
    with pytest.raises(ConfigurationError, match="ca_file"):
        load_trusted_issuers(path, directory)


def test_empty_file_trusts_no_one(tmp_path: Path, directory: MemoryDirectory) -> None:
    path = tmp_path / "issuers.toml"
    path.write_text("# no external issuers yet\n")
    assert load_trusted_issuers(path, directory) == {}


def test_defaults_of_a_minimal_table(tmp_path: Path) -> None:
    table = issuer_table(jwks_url="http://127.0.0.1:1/jwks", department_claim=DROP)
    [config] = read_trusted_issuers(write_issuers(tmp_path / "issuers.toml", table))
    assert config.algorithms == ("RS256", "ES256", "EdDSA")
    assert config.roles_claim == "roles"
    assert (config.department_claim, config.tenants) == (None, None)
    assert config.refresh_interval_seconds == 300
    assert config.min_refresh_interval_seconds == 30
    assert config.fetch_timeout_seconds == 3
