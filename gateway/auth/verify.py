"""Verify a bearer token and turn it into a Principal, failing closed on every doubt."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import jwt

from gateway.auth.claims import (
    bearer_token,
    checked_header,
    roles_claim,
    string_claim,
    translate,
    unverified_issuer,
)
from gateway.auth.directory import IdentityDirectory
from gateway.auth.principal import Principal
from gateway.errors import AuthenticationError, PermissionDeniedError

LEEWAY_SECONDS = 60
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


class ExternalIssuer(Protocol):
    """A trusted OpenID Connect issuer (see gateway/auth/oidc.py)."""

    issuer: str

    async def verify(self, token: str, header: Mapping[str, Any]) -> Principal: ...


class TokenVerifier:
    """Verifies Enclave's own tokens and those of trusted external issuers."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        directory: IdentityDirectory,
        external: Mapping[str, ExternalIssuer] | None = None,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._directory = directory
        self._external = dict(external or {})

    async def authenticate(self, authorization: str | None) -> Principal:
        token = bearer_token(authorization)
        header = checked_header(token)
        issuer = unverified_issuer(token)
        if issuer == self._issuer:
            return await self._verify_own(token, header)
        external = self._external.get(issuer)
        if external is None:
            raise AuthenticationError("token issuer is not trusted")
        return await external.verify(token, header)

    async def _verify_own(self, token: str, header: Mapping[str, Any]) -> Principal:
        key = await self._directory.own_key(str(header["kid"]))
        if key is None:
            raise AuthenticationError("token was signed with an unknown key")
        if header.get("alg") != key.algorithm:
            raise AuthenticationError("token algorithm is not allowed")
        try:
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": [*REQUIRED_CLAIMS, "jti"], "strict_aud": True},
            )
        except jwt.InvalidTokenError as exc:
            raise translate(exc) from None
        return await self._own_principal(claims)

    async def _own_principal(self, claims: Mapping[str, Any]) -> Principal:
        jti = string_claim(claims, "jti")
        tenant = string_claim(claims, "tenant")
        status = await self._directory.token_status(jti)
        if status is None or status.tenant != tenant:
            raise AuthenticationError("token is not known to this server")
        if status.revoked:
            raise AuthenticationError("token has been revoked", code="token_revoked")
        if not status.tenant_active:
            raise PermissionDeniedError("tenant is suspended", code="tenant_suspended")
        return Principal(
            tenant=tenant,
            department=string_claim(claims, "department"),
            subject=string_claim(claims, "sub"),
            roles=roles_claim(claims),
            token_id=jti,
            issuer=self._issuer,
        )
