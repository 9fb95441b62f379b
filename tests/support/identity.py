"""An in-memory identity directory and a token factory for tests of authentication."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.auth.directory import TenantStatus, TokenStatus, VerificationKey
from gateway.auth.signing import (
    SIGNING_ALGORITHM,
    generate_signing_key,
    load_private_key,
    mint_token,
)

ISSUER = "enclave-test"
AUDIENCE = "enclave-api"


@dataclass
class MemoryDirectory:
    keys: dict[str, VerificationKey] = field(default_factory=dict)
    tokens: dict[str, TokenStatus] = field(default_factory=dict)
    tenants: dict[str, TenantStatus] = field(default_factory=dict)
    jwks: dict[str, dict[str, str]] = field(default_factory=dict)

    async def own_key(self, kid: str) -> VerificationKey | None:
        return self.keys.get(kid)

    async def token_status(self, jti: str) -> TokenStatus | None:
        return self.tokens.get(jti)

    async def tenant_status(self, name: str) -> TenantStatus | None:
        return self.tenants.get(name)

    async def public_jwks(self) -> list[dict[str, str]]:
        return list(self.jwks.values())


@dataclass
class TokenFactory:
    """Mints real EdDSA tokens and records them in a MemoryDirectory."""

    keys_dir: Path
    directory: MemoryDirectory
    kid: str = ""
    private_key: Ed25519PrivateKey | None = None

    def __post_init__(self) -> None:
        material = generate_signing_key(self.keys_dir)
        self.kid = material.kid
        self.private_key = load_private_key(self.keys_dir, material.kid)
        self.directory.jwks[self.kid] = material.public_jwk
        self.directory.keys[self.kid] = VerificationKey(
            kid=self.kid, algorithm=SIGNING_ALGORITHM, public_key=self.private_key.public_key()
        )

    def add_tenant(self, name: str, department: str = "engineering", active: bool = True) -> None:
        self.directory.tenants[name] = TenantStatus(name=name, department=department, active=active)

    def issue(
        self,
        tenant: str = "acme",
        roles: tuple[str, ...] = ("app",),
        *,
        lifetime: timedelta = timedelta(hours=1),
        issued_at: datetime | None = None,
    ) -> tuple[str, str]:
        """A fresh token and its jti."""
        if tenant not in self.directory.tenants:
            self.add_tenant(tenant)
        assert self.private_key is not None
        jti = uuid.uuid4().hex
        now = issued_at or datetime.now(UTC)
        token = mint_token(
            private_key=self.private_key,
            kid=self.kid,
            issuer=ISSUER,
            audience=AUDIENCE,
            subject="alice",
            tenant=tenant,
            department=self.directory.tenants[tenant].department,
            roles=roles,
            jti=jti,
            issued_at=now,
            expires_at=now + lifetime,
        )
        active = self.directory.tenants[tenant].active
        self.directory.tokens[jti] = TokenStatus(tenant=tenant, revoked=False, tenant_active=active)
        return token, jti

    def revoke(self, jti: str) -> None:
        status = self.directory.tokens[jti]
        self.directory.tokens[jti] = TokenStatus(
            tenant=status.tenant, revoked=True, tenant_active=status.tenant_active
        )

    def suspend(self, tenant: str) -> None:
        self.add_tenant(tenant, self.directory.tenants[tenant].department, active=False)
        for jti, status in list(self.directory.tokens.items()):
            if status.tenant == tenant:
                self.directory.tokens[jti] = TokenStatus(tenant, status.revoked, False)
