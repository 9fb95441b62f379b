"""Every attack on the bearer token ends in 401/403 with a message that leaks nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.auth.claims import MAX_TOKEN_BYTES
from gateway.auth.verify import TokenVerifier
from gateway.errors import AuthenticationError, GatewayError, PermissionDeniedError
from tests.support.identity import AUDIENCE, ISSUER, MemoryDirectory, TokenFactory

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def directory() -> MemoryDirectory:
    return MemoryDirectory()


@pytest.fixture
def tokens(tmp_path: Path, directory: MemoryDirectory) -> TokenFactory:
    return TokenFactory(keys_dir=tmp_path / "keys", directory=directory)


@pytest.fixture
def verifier(directory: MemoryDirectory) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, directory=directory)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def forge(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)]
    )


def claims_of(token: str) -> dict[str, Any]:
    payload: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return payload


def sign(tokens: TokenFactory, claims: dict[str, Any], **headers: Any) -> str:
    assert tokens.private_key is not None
    return jwt.encode(
        claims, tokens.private_key, algorithm="EdDSA", headers={"kid": tokens.kid, **headers}
    )


async def refused(verifier: TokenVerifier, header: str | None, status: int = 401) -> GatewayError:
    with pytest.raises(GatewayError) as caught:
        await verifier.authenticate(header)
    assert caught.value.status_code == status
    return caught.value


async def test_valid_token_gives_principal(tokens: TokenFactory, verifier: TokenVerifier) -> None:
    token, jti = tokens.issue("acme", ("app", "compliance"))
    principal = await verifier.authenticate(f"Bearer {token}")
    assert principal.tenant == "acme"
    assert principal.department == "engineering"
    assert principal.subject == "alice"
    assert principal.roles == frozenset({"app", "compliance"})
    assert principal.token_id == jti


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwdw==", "Bearer a b", "token"]
)
async def test_missing_or_garbled_authorization_header(
    verifier: TokenVerifier, header: str | None
) -> None:
    await refused(verifier, header)


async def test_garbage_token(verifier: TokenVerifier) -> None:
    error = await refused(verifier, "Bearer not.a.jwt")
    assert "malformed" in error.message


async def test_alg_none_is_refused(tokens: TokenFactory, verifier: TokenVerifier) -> None:
    token, _ = tokens.issue()
    forged = forge({"alg": "none", "kid": tokens.kid, "typ": "JWT"}, claims_of(token))
    error = await refused(verifier, f"Bearer {forged}")
    assert "algorithm" in error.message


async def test_hs256_signed_with_the_public_key_is_refused(
    tokens: TokenFactory, verifier: TokenVerifier
) -> None:
    token, _ = tokens.issue()
    assert tokens.private_key is not None
    public_pem = tokens.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": tokens.kid, "typ": "JWT"}
    signing_input = f"{b64(json.dumps(header).encode())}.{token.split('.')[1]}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    await refused(verifier, f"Bearer {signing_input}.{b64(mac)}")


async def test_expired_token(tokens: TokenFactory, verifier: TokenVerifier) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    token, _ = tokens.issue(issued_at=past, lifetime=timedelta(minutes=30))
    error = await refused(verifier, f"Bearer {token}")
    assert error.code == "token_expired"


async def test_expiry_within_leeway_still_accepted(
    tokens: TokenFactory, verifier: TokenVerifier
) -> None:
    past = datetime.now(UTC) - timedelta(minutes=10)
    token, _ = tokens.issue(issued_at=past, lifetime=timedelta(minutes=10) - timedelta(seconds=30))
    assert (await verifier.authenticate(f"Bearer {token}")).tenant == "acme"


async def test_not_before_in_the_future(tokens: TokenFactory, verifier: TokenVerifier) -> None:
    token, _ = tokens.issue()
    claims = claims_of(token) | {"nbf": int(time.time()) + 600}
    error = await refused(verifier, f"Bearer {sign(tokens, claims)}")
    assert "not valid yet" in error.message


async def test_issued_in_the_future(tokens: TokenFactory, verifier: TokenVerifier) -> None:
    token, _ = tokens.issue()
    claims = claims_of(token) | {"iat": int(time.time()) + 600, "nbf": int(time.time())}
    await refused(verifier, f"Bearer {sign(tokens, claims)}")


@pytest.mark.parametrize("claim", ["exp", "iat", "aud", "sub", "jti"])
async def test_missing_required_claim(
    tokens: TokenFactory, verifier: TokenVerifier, claim: str
) -> None:
    token, _ = tokens.issue()
    claims = claims_of(token)
    del claims[claim]
    error = await refused(verifier, f"Bearer {sign(tokens, claims)}")
    assert claim in error.message


@pytest.mark.parametrize(
    "issuer", ["enclave-tes", "enclave-test-evil", "ENCLAVE-TEST", "", "https://evil"]
)
async def test_wrong_or_partial_issuer(
    tokens: TokenFactory, verifier: TokenVerifier, issuer: str
) -> None:
    token, _ = tokens.issue()
    await refused(verifier, f"Bearer {sign(tokens, claims_of(token) | {'iss': issuer})}")


@pytest.mark.parametrize(
    "audience", ["enclave", "enclave-api-x", ["other"], ["enclave-api", "other"]]
)
async def test_wrong_audience(tokens: TokenFactory, verifier: TokenVerifier, audience: Any) -> None:
    token, _ = tokens.issue()
    await refused(verifier, f"Bearer {sign(tokens, claims_of(token) | {'aud': audience})}")


async def test_unknown_kid(tmp_path: Path, tokens: TokenFactory, verifier: TokenVerifier) -> None:
    token, _ = tokens.issue()
    stranger = Ed25519PrivateKey.generate()
    forged = jwt.encode(
        claims_of(token), stranger, algorithm="EdDSA", headers={"kid": "unknownkey1"}
    )
    error = await refused(verifier, f"Bearer {forged}")
    assert "unknown key" in error.message


@pytest.mark.parametrize("kid", ["../../etc/passwd", 'a"b', "a'b", "x/y", "", "a" * 200, "k\x00"])
async def test_kid_with_path_or_quote_characters(
    tokens: TokenFactory, verifier: TokenVerifier, kid: str
) -> None:
    token, _ = tokens.issue()
    assert tokens.private_key is not None
    forged = jwt.encode(
        claims_of(token), tokens.private_key, algorithm="EdDSA", headers={"kid": kid}
    )
    error = await refused(verifier, f"Bearer {forged}")
    assert "key id" in error.message


async def test_signature_by_another_key_under_a_known_kid(
    tokens: TokenFactory, verifier: TokenVerifier
) -> None:
    token, _ = tokens.issue()
    forged = jwt.encode(
        claims_of(token),
        Ed25519PrivateKey.generate(),
        algorithm="EdDSA",
        headers={"kid": tokens.kid},
    )
    error = await refused(verifier, f"Bearer {forged}")
    assert "signature" in error.message


def flip_bit(segment: str, bit: int) -> str:
    raw = bytearray(unb64(segment))
    raw[bit // 8 % len(raw)] ^= 1 << (bit % 8)
    return b64(bytes(raw))


@pytest.mark.parametrize("bit", [0, 7, 77, 150, 255])
async def test_single_bit_flip_in_signature(
    tokens: TokenFactory, verifier: TokenVerifier, bit: int
) -> None:
    header, payload, signature = tokens.issue()[0].split(".")
    await refused(verifier, f"Bearer {header}.{payload}.{flip_bit(signature, bit)}")


@pytest.mark.parametrize("bit", [3, 64, 200, 333, 501])
async def test_single_bit_flip_in_payload(
    tokens: TokenFactory, verifier: TokenVerifier, bit: int
) -> None:
    header, payload, signature = tokens.issue()[0].split(".")
    await refused(verifier, f"Bearer {header}.{flip_bit(payload, bit)}.{signature}")


async def test_tampered_claims_re_encoded(tokens: TokenFactory, verifier: TokenVerifier) -> None:
    token, _ = tokens.issue("acme", ("app",))
    header, _, signature = token.split(".")
    claims = claims_of(token) | {"roles": ["app", "admin"]}
    payload = b64(json.dumps(claims).encode())
    error = await refused(verifier, f"Bearer {header}.{payload}.{signature}")
    assert "signature" in error.message


async def test_revoked_token(tokens: TokenFactory, verifier: TokenVerifier) -> None:
    token, jti = tokens.issue()
    assert await verifier.authenticate(f"Bearer {token}")
    tokens.revoke(jti)
    error = await refused(verifier, f"Bearer {token}")
    assert error.code == "token_revoked"


async def test_token_never_recorded(
    tokens: TokenFactory, verifier: TokenVerifier, directory: MemoryDirectory
) -> None:
    token, jti = tokens.issue()
    del directory.tokens[jti]
    await refused(verifier, f"Bearer {token}")


async def test_suspended_tenant_is_403(tokens: TokenFactory, verifier: TokenVerifier) -> None:
    token, _ = tokens.issue("acme")
    tokens.suspend("acme")
    error = await refused(verifier, f"Bearer {token}", status=403)
    assert isinstance(error, PermissionDeniedError)
    assert error.code == "tenant_suspended"


async def test_oversized_token_refused_before_decoding(verifier: TokenVerifier) -> None:
    huge = "e" * (MAX_TOKEN_BYTES + 1)
    error = await refused(verifier, f"Bearer {huge}")
    assert "larger" in error.message


async def test_unknown_critical_header(tokens: TokenFactory, verifier: TokenVerifier) -> None:
    token, _ = tokens.issue()
    forged = sign(tokens, claims_of(token), crit=["exp-policy"], **{"exp-policy": 1})
    await refused(verifier, f"Bearer {forged}")


async def test_wrong_token_type(tokens: TokenFactory, verifier: TokenVerifier) -> None:
    token, _ = tokens.issue()
    await refused(verifier, f"Bearer {sign(tokens, claims_of(token), typ='secevent+jwt')}")


async def test_messages_never_echo_the_token(tokens: TokenFactory, verifier: TokenVerifier) -> None:
    token, jti = tokens.issue()
    tokens.revoke(jti)
    error = await refused(verifier, f"Bearer {token}")
    assert token not in error.message
    assert jti not in error.message
    assert isinstance(error, AuthenticationError)
