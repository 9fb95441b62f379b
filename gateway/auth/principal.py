"""Who is calling: the result of authentication, used by everything downstream."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

APP_ROLE: Final = "app"
COMPLIANCE_ROLE: Final = "compliance"
ADMIN_ROLE: Final = "admin"
ROLES: Final = frozenset({APP_ROLE, COMPLIANCE_ROLE, ADMIN_ROLE})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    tenant: str
    department: str
    subject: str
    roles: frozenset[str]
    token_id: str | None
    """The token's ``jti`` (for revocation and audit)."""
    issuer: str

    def has_role(self, role: str) -> bool:
        return role in self.roles
