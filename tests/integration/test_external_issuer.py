"""A token from a trusted external identity provider, through the whole app."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from gateway.errors import ConfigurationError
from gateway.services import Services
from gateway.settings import Settings
from tests.support.echo_engine import ECHO_MODEL
from tests.support.identity import TokenFactory

pytestmark = pytest.mark.anyio

IDP = "https://idp.example/realms/corp"
CHAT = {"model": ECHO_MODEL, "messages": [{"role": "user", "content": "hello"}]}


@pytest.fixture
def idp_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def issuers_file(tmp_path: Path, idp_key: rsa.RSAPrivateKey) -> Path:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(idp_key.public_key()))
    (tmp_path / "jwks.json").write_text(
        json.dumps({"keys": [{**jwk, "kid": "corp-1", "use": "sig"}]})
    )
    config = tmp_path / "issuers.toml"
    config.write_text(
        f'[[issuer]]\nissuer = "{IDP}"\naudience = "enclave-api"\n'
        'tenant_claim = "enclave_tenant"\njwks_file = "jwks.json"\nalgorithms = ["RS256"]\n'
    )
    return config


def idp_token(key: rsa.RSAPrivateKey, tenant: str, roles: list[str]) -> str:
    now = int(time.time())
    claims = {"iss": IDP, "aud": "enclave-api", "sub": "bob@corp", "iat": now, "exp": now + 600}
    claims |= {"enclave_tenant": tenant, "roles": roles}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "corp-1"})


@pytest.fixture
async def client(
    settings: Settings, issuers_file: Path, services: Services, tokens: TokenFactory
) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    tokens.add_tenant("acme", "engineering")
    with_idp = dataclasses.replace(settings, trusted_issuers_file=issuers_file)
    app = create_app(with_idp, services)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


async def test_idp_token_for_a_registered_tenant_is_served(
    client: AsyncTestClient, idp_key: rsa.RSAPrivateKey
) -> None:  # type: ignore[type-arg]
    token = idp_token(idp_key, "acme", ["app"])
    response = await client.post(
        "/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200


async def test_idp_token_for_an_unknown_tenant_or_without_roles_is_refused(
    client: AsyncTestClient, idp_key: rsa.RSAPrivateKey
) -> None:  # type: ignore[type-arg]
    unknown = idp_token(idp_key, "nobody", ["app"])
    response = await client.post(
        "/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {unknown}"}
    )
    assert response.status_code == 401
    roleless = idp_token(idp_key, "acme", [])
    response = await client.post(
        "/v1/chat/completions", json=CHAT, headers={"authorization": f"Bearer {roleless}"}
    )
    assert response.status_code == 403


async def test_an_external_issuer_may_not_claim_enclaves_own_name(
    settings: Settings, issuers_file: Path, services: Services
) -> None:
    clash = dataclasses.replace(settings, jwt_issuer=IDP, trusted_issuers_file=issuers_file)
    with pytest.raises(ConfigurationError, match="Enclave's own"):
        create_app(clash, services)
