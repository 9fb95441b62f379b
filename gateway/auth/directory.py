"""What the verifier needs to know about keys, tokens and tenants, behind one small protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class VerificationKey:
    kid: str
    algorithm: str
    public_key: Any
    """A public key object pyjwt accepts for ``algorithm``."""


@dataclass(frozen=True, slots=True)
class TokenStatus:
    tenant: str
    revoked: bool
    tenant_active: bool


@dataclass(frozen=True, slots=True)
class TenantStatus:
    name: str
    department: str
    active: bool


@runtime_checkable
class IdentityDirectory(Protocol):
    """Look-ups the verifier makes; implementations may cache keys but never token status."""

    async def own_key(self, kid: str) -> VerificationKey | None: ...

    async def token_status(self, jti: str) -> TokenStatus | None: ...

    async def tenant_status(self, name: str) -> TenantStatus | None: ...

    async def public_jwks(self) -> list[dict[str, str]]:
        """Public JWKs of every key that still verifies (the active one and retired ones)."""
        ...
