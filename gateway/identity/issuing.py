"""Key rotation and token issuance: the signing keys on disk tied to the rows that track them.

Shared by the ``enclave`` CLI and the admin API. The caller commits the session; if the
commit fails after a key was generated, an unused private key file is left behind (harmless).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from gateway.auth.signing import generate_signing_key, load_private_key, mint_token
from gateway.errors import ConfigurationError, ConflictError
from gateway.identity.clock import checked_now
from gateway.identity.keys import KeyInfo, active_key, record_signing_key, retire_active_keys
from gateway.identity.tenants import TenantInfo, get_tenant
from gateway.identity.tokens import record_token
from gateway.identity.ttl import checked_ttl
from gateway.identity.validation import checked_roles, checked_subject
from gateway.settings import Settings


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly minted token and what was recorded about it."""

    token: str = field(repr=False)
    """The bearer token: shown once to whoever asked for it, never stored, never logged."""
    jti: str
    subject: str
    tenant: str
    department: str
    roles: tuple[str, ...]
    kid: str
    issued_at: datetime
    expires_at: datetime


def rotate_signing_key(
    session: Session, settings: Settings, *, now: datetime | None = None
) -> KeyInfo:
    """Generate the new active key; the old ones verify for one maximum token lifetime more."""
    now = checked_now(now)
    material = generate_signing_key(settings.keys_dir)
    verify_until = now + timedelta(seconds=settings.token_max_ttl_seconds)
    retire_active_keys(session, verify_until, now=now)
    return record_signing_key(
        session, material.kid, material.algorithm, material.public_jwk, now=now
    )


def issue_token(
    session: Session,
    settings: Settings,
    *,
    tenant: str,
    roles: Sequence[str],
    ttl_seconds: int,
    subject: str | None = None,
    now: datetime | None = None,
) -> IssuedToken:
    """Mint a token for an active tenant with the active key, and record it.

    ``subject`` defaults to the tenant's name.
    """
    checked_ttl(ttl_seconds, settings.token_max_ttl_seconds)
    chosen_roles = checked_roles(roles)
    chosen_subject = checked_subject(tenant if subject is None else subject)
    owner = _active_tenant(session, tenant)
    key = _signing_key(session)
    issued_at = checked_now(now).replace(microsecond=0)
    unsigned = IssuedToken(
        token="",
        jti=secrets.token_hex(16),
        subject=chosen_subject,
        tenant=owner.name,
        department=owner.department,
        roles=chosen_roles,
        kid=key.kid,
        issued_at=issued_at,
        expires_at=issued_at + timedelta(seconds=ttl_seconds),
    )
    issued = dataclasses.replace(unsigned, token=_mint(unsigned, settings))
    record_token(
        session,
        jti=issued.jti,
        subject=issued.subject,
        tenant_name=issued.tenant,
        roles=issued.roles,
        kid=issued.kid,
        issued_at=issued.issued_at,
        expires_at=issued.expires_at,
    )
    return issued


def _active_tenant(session: Session, name: str) -> TenantInfo:
    tenant = get_tenant(session, name)
    if not tenant.is_active:
        raise ConflictError(
            f"tenant {name!r} is suspended; resume it before issuing tokens",
            param="tenant",
            code="tenant_suspended",
        )
    return tenant


def _signing_key(session: Session) -> KeyInfo:
    key = active_key(session)
    if key is None:
        raise ConfigurationError("no active signing key; run `enclave keys rotate`")
    return key


def _mint(issued: IssuedToken, settings: Settings) -> str:
    return mint_token(
        private_key=load_private_key(settings.keys_dir, issued.kid),
        kid=issued.kid,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        subject=issued.subject,
        tenant=issued.tenant,
        department=issued.department,
        roles=issued.roles,
        jti=issued.jti,
        issued_at=issued.issued_at,
        expires_at=issued.expires_at,
    )
