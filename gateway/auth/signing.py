"""Enclave's own signing keys (Ed25519 / EdDSA) and the tokens minted with them."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.errors import ConfigurationError

SIGNING_ALGORITHM = "EdDSA"
TOKEN_TYPE = "JWT"  # noqa: S105  # the JOSE "typ" header value, not a secret


@dataclass(frozen=True, slots=True)
class SigningKeyMaterial:
    kid: str
    algorithm: str
    public_jwk: dict[str, str]


def generate_signing_key(keys_dir: Path) -> SigningKeyMaterial:
    """Create an Ed25519 key; the private half goes to ``keys_dir/<kid>.pem`` with mode 0600."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_key = Ed25519PrivateKey.generate()
    kid = secrets.token_urlsafe(12)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(keys_dir / f"{kid}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return SigningKeyMaterial(
        kid=kid, algorithm=SIGNING_ALGORITHM, public_jwk=public_jwk(private_key, kid)
    )


def public_jwk(private_key: Ed25519PrivateKey, kid: str) -> dict[str, str]:
    jwk: dict[str, str] = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(private_key.public_key()))
    return {**jwk, "kid": kid, "alg": SIGNING_ALGORITHM, "use": "sig"}


def load_private_key(keys_dir: Path, kid: str) -> Ed25519PrivateKey:
    path = keys_dir / f"{kid}.pem"
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ConfigurationError(
            f"{path}: signing key file is missing or unreadable ({exc.strerror}); "
            "run `enclave keys rotate` on the host that holds the keys"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{path}: not an Ed25519 private key")
    return key


def mint_token(
    *,
    private_key: Ed25519PrivateKey,
    kid: str,
    issuer: str,
    audience: str,
    subject: str,
    tenant: str,
    department: str,
    roles: Sequence[str],
    jti: str,
    issued_at: datetime,
    expires_at: datetime,
) -> str:
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "tenant": tenant,
        "department": department,
        "roles": sorted(roles),
        "jti": jti,
        "iat": int(issued_at.timestamp()),
        "nbf": int(issued_at.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    headers = {"kid": kid, "typ": TOKEN_TYPE}
    return jwt.encode(claims, private_key, algorithm=SIGNING_ALGORITHM, headers=headers)
