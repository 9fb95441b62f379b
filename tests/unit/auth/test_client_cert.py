"""Mutual TLS identities: only the verified certificate counts, and a token must agree."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gateway.auth.client_cert import CERTIFICATE_ISSUER, ConnectionAuthenticator
from gateway.auth.verify import TokenVerifier
from gateway.errors import AuthenticationError, GatewayError, PermissionDeniedError
from gateway.tls.certs import CertPaths, init_dev_certs
from gateway.tls.client_certs import issue_client_cert
from tests.support.identity import AUDIENCE, ISSUER, MemoryDirectory, TokenFactory

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> CertPaths:
    return init_dev_certs(tmp_path_factory.mktemp("mtls") / "certs")


@pytest.fixture
def directory() -> MemoryDirectory:
    return MemoryDirectory()


@pytest.fixture
def tokens(tmp_path: Path, directory: MemoryDirectory) -> TokenFactory:
    factory = TokenFactory(keys_dir=tmp_path / "keys", directory=directory)
    factory.add_tenant("acme", department="finance")
    factory.add_tenant("globex", department="research")
    return factory


def authenticator(
    directory: MemoryDirectory, *, mutual_tls: bool = True
) -> ConnectionAuthenticator:
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, directory=directory)
    return ConnectionAuthenticator(verifier, directory, mutual_tls=mutual_tls)


def pem_for(dev: CertPaths, tmp_path: Path, tenant: str, name: str | None = None) -> str:
    files = issue_client_cert(dev.ca_cert.parent, tenant, name=name, out_dir=tmp_path, force=True)
    return files.cert.read_text()


def scope_with(pem: str | None, *, error: str | None = None, headers: Any = ()) -> dict[str, Any]:
    """An HTTP scope as Enclave's listener builds it (``pem`` None: no TLS extension)."""
    scope: dict[str, Any] = {"type": "http", "headers": list(headers)}
    if pem is not None:
        tls = {"client_cert_chain": [pem], "client_cert_name": "x", "client_cert_error": error}
        scope["extensions"] = {"tls": tls}
    return scope


async def refusal(
    auth: ConnectionAuthenticator, scope: Any, credentials: str | None
) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        await auth.authenticate(scope, credentials)
    return caught.value


async def test_certificate_alone_is_its_tenant_with_the_app_role(
    dev: CertPaths, tmp_path: Path, tokens: TokenFactory, directory: MemoryDirectory
) -> None:
    pem = pem_for(dev, tmp_path, "acme", name="acme-batch")
    principal = await authenticator(directory).authenticate(scope_with(pem), None)
    assert (principal.tenant, principal.department) == ("acme", "finance")
    assert principal.roles == frozenset({"app"})
    assert principal.subject == "acme-batch"
    assert principal.issuer == CERTIFICATE_ISSUER
    assert principal.token_id is None


async def test_certificate_and_token_of_the_same_tenant_use_the_token(
    dev: CertPaths, tmp_path: Path, tokens: TokenFactory, directory: MemoryDirectory
) -> None:
    token, jti = tokens.issue("acme", ("compliance",))
    pem = pem_for(dev, tmp_path, "acme")
    principal = await authenticator(directory).authenticate(scope_with(pem), f"Bearer {token}")
    assert principal.roles == frozenset({"compliance"})
    assert principal.token_id == jti


async def test_token_of_another_tenant_is_refused(
    dev: CertPaths, tmp_path: Path, tokens: TokenFactory, directory: MemoryDirectory
) -> None:
    token, _ = tokens.issue("globex", ("app", "admin"))
    error = await refusal(
        authenticator(directory), scope_with(pem_for(dev, tmp_path, "acme")), f"Bearer {token}"
    )
    assert isinstance(error, PermissionDeniedError)
    assert error.code == "certificate_tenant_mismatch"


async def test_an_invalid_token_is_refused_even_with_a_good_certificate(
    dev: CertPaths, tmp_path: Path, tokens: TokenFactory, directory: MemoryDirectory
) -> None:
    error = await refusal(
        authenticator(directory), scope_with(pem_for(dev, tmp_path, "acme")), "Bearer nope"
    )
    assert isinstance(error, AuthenticationError)


@pytest.mark.parametrize(
    "headers",
    [
        [(b"x-tenant", b"globex")],
        [(b"x-ssl-client-s-dn", b"CN=globex")],
        [(b"x-forwarded-client-cert", b"URI=enclave://tenant/globex")],
    ],
)
async def test_without_a_certificate_no_header_stands_in_for_one(
    tokens: TokenFactory, directory: MemoryDirectory, headers: list[tuple[bytes, bytes]]
) -> None:
    error = await refusal(authenticator(directory), scope_with(None, headers=headers), None)
    assert isinstance(error, AuthenticationError)
    assert error.code == "client_certificate_required"


async def test_a_certificate_the_server_did_not_verify_is_refused(
    dev: CertPaths, tmp_path: Path, tokens: TokenFactory, directory: MemoryDirectory
) -> None:
    scope = scope_with(pem_for(dev, tmp_path, "acme"), error="unable to get local issuer")
    error = await refusal(authenticator(directory), scope, None)
    assert error.code == "client_certificate_required"


async def test_suspended_tenant_is_403(
    dev: CertPaths, tmp_path: Path, tokens: TokenFactory, directory: MemoryDirectory
) -> None:
    tokens.add_tenant("acme", department="finance", active=False)
    error = await refusal(
        authenticator(directory), scope_with(pem_for(dev, tmp_path, "acme")), None
    )
    assert isinstance(error, PermissionDeniedError)
    assert error.code == "tenant_suspended"


async def test_unknown_tenant_is_401(
    dev: CertPaths, tmp_path: Path, tokens: TokenFactory, directory: MemoryDirectory
) -> None:
    error = await refusal(
        authenticator(directory), scope_with(pem_for(dev, tmp_path, "initech")), None
    )
    assert isinstance(error, AuthenticationError)
    assert error.code == "invalid_client_certificate"


async def test_a_certificate_without_a_tenant_uri_is_401(
    dev: CertPaths, tokens: TokenFactory, directory: MemoryDirectory
) -> None:
    server_leaf = dev.server_cert.read_text().split("-----END CERTIFICATE-----")[0]
    pem = server_leaf + "-----END CERTIFICATE-----\n"
    error = await refusal(authenticator(directory), scope_with(pem), None)
    assert error.code == "invalid_client_certificate"
    assert "exactly one tenant" in error.message


async def test_without_mutual_tls_certificates_play_no_part(
    dev: CertPaths, tmp_path: Path, tokens: TokenFactory, directory: MemoryDirectory
) -> None:
    auth = authenticator(directory, mutual_tls=False)
    scope = scope_with(pem_for(dev, tmp_path, "acme"))
    error = await refusal(auth, scope, None)
    assert error.code == "missing_token"
    token, _ = tokens.issue("globex", ("app",))
    assert (await auth.authenticate(scope, f"Bearer {token}")).tenant == "globex"
