"""Checks on a token's header and claims that pyjwt does not make by itself (RFC 8725)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import jwt

from gateway.auth.principal import ROLES
from gateway.errors import AuthenticationError

MAX_TOKEN_BYTES = 8192
KID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
NEVER_ALLOWED_ALGORITHMS = frozenset({"none", "HS256", "HS384", "HS512"})
UNDERSTOOD_CRITICAL_HEADERS: frozenset[str] = frozenset()
ACCEPTED_TYPES = frozenset({"JWT", "AT+JWT", "APPLICATION/AT+JWT"})


def bearer_token(authorization: str | None) -> str:
    """The token from an ``Authorization: Bearer ...`` header, size-checked before any decoding."""
    if not authorization:
        raise AuthenticationError(
            "missing bearer token in the Authorization header", code="missing_token"
        )
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
    if len(token) > MAX_TOKEN_BYTES:
        raise AuthenticationError(f"token is larger than {MAX_TOKEN_BYTES} bytes")
    return token


def checked_header(token: str) -> dict[str, Any]:
    """The token's JOSE header, refusing forbidden algorithms, odd key ids and unknown ``crit``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise AuthenticationError("token is malformed") from None
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm in NEVER_ALLOWED_ALGORITHMS:
        raise AuthenticationError("token algorithm is not allowed")
    kid = header.get("kid")
    if not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid):
        raise AuthenticationError("token key id is missing or malformed")
    critical = header.get("crit")
    if critical is not None and not _only_understood(critical):
        raise AuthenticationError(
            "token has critical header parameters this server does not understand"
        )
    token_type = header.get("typ")
    if token_type is not None and str(token_type).upper() not in ACCEPTED_TYPES:
        raise AuthenticationError("token type is not accepted")
    return header


def _only_understood(critical: object) -> bool:
    if not isinstance(critical, list) or not all(isinstance(name, str) for name in critical):
        return False
    return not set(critical) - UNDERSTOOD_CRITICAL_HEADERS


def unverified_issuer(token: str) -> str:
    """The ``iss`` claim before verification: only used to pick the key set to verify with."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise AuthenticationError("token is malformed") from None
    issuer = claims.get("iss")
    if not isinstance(issuer, str):
        raise AuthenticationError("token lacks the 'iss' claim")
    return issuer


def string_claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise AuthenticationError(f"token claim '{name}' is missing or not a string")
    return value


def roles_claim(claims: Mapping[str, Any], name: str = "roles") -> frozenset[str]:
    value = claims.get(name)
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not all(isinstance(role, str) for role in value):
        raise AuthenticationError(f"token claim '{name}' must be a list of roles")
    return frozenset(value) & ROLES


def translate(error: jwt.InvalidTokenError) -> AuthenticationError:
    """A client-safe message for pyjwt's error (never the token's content)."""
    if isinstance(error, jwt.ExpiredSignatureError):
        return AuthenticationError("token has expired", code="token_expired")
    if isinstance(error, jwt.ImmatureSignatureError):
        return AuthenticationError("token is not valid yet")
    if isinstance(error, jwt.MissingRequiredClaimError):
        return AuthenticationError(f"token lacks the '{error.claim}' claim")
    if isinstance(error, jwt.InvalidAudienceError):
        return AuthenticationError("token audience is not accepted")
    if isinstance(error, jwt.InvalidIssuerError):
        return AuthenticationError("token issuer is not accepted")
    if isinstance(error, jwt.InvalidSignatureError):
        return AuthenticationError("token signature is invalid")
    if isinstance(error, jwt.InvalidAlgorithmError):
        return AuthenticationError("token algorithm is not allowed")
    return AuthenticationError("token is invalid")
