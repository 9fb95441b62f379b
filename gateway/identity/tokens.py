"""Issued tokens: the record of every token Enclave minted, its revocation and its state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.db.models import IssuedToken, Tenant
from gateway.errors import ConflictError, InvalidRequestError, NotFoundError
from gateway.identity.clock import checked_now, require_aware
from gateway.identity.tenants import TenantStatus, tenant_row
from gateway.identity.validation import checked_roles, checked_subject

JTI_MAX_LENGTH = 64


class TokenLifecycle(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What is known about an issued token; never the token itself."""

    jti: str
    subject: str
    tenant: str
    roles: tuple[str, ...]
    kid: str
    issued_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    def lifecycle(self, now: datetime) -> TokenLifecycle:
        if self.revoked_at is not None:
            return TokenLifecycle.REVOKED
        if self.expires_at <= now:
            return TokenLifecycle.EXPIRED
        return TokenLifecycle.ACTIVE


@dataclass(frozen=True, slots=True)
class TokenState:
    """What the gateway checks on every request carrying one of Enclave's tokens."""

    jti: str
    tenant: str
    tenant_status: TenantStatus
    revoked_at: datetime | None
    expires_at: datetime

    def is_usable(self, now: datetime) -> bool:
        return (
            self.revoked_at is None
            and self.tenant_status is TenantStatus.ACTIVE
            and now < self.expires_at
        )


def record_token(
    session: Session,
    *,
    jti: str,
    subject: str,
    tenant_name: str,
    roles: Sequence[str],
    kid: str,
    issued_at: datetime,
    expires_at: datetime,
) -> TokenInfo:
    """Remember a freshly minted token; ConflictError if the ``jti`` was used before."""
    if not 1 <= len(jti) <= JTI_MAX_LENGTH:
        raise InvalidRequestError(f"jti must be 1-{JTI_MAX_LENGTH} characters", param="jti")
    issued_at = require_aware(issued_at, param="issued_at")
    expires_at = require_aware(expires_at, param="expires_at")
    if expires_at <= issued_at:
        raise InvalidRequestError("a token must expire after it is issued", param="ttl")
    if session.get(IssuedToken, jti) is not None:
        raise _duplicate(jti)
    tenant = tenant_row(session, tenant_name)
    row = IssuedToken(
        jti=jti,
        subject=checked_subject(subject),
        tenant_id=tenant.id,
        roles=" ".join(checked_roles(roles)),
        kid=kid,
        issued_at=issued_at,
        expires_at=expires_at,
        revoked_at=None,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:
        raise _duplicate(jti) from exc
    return _token_info(row, tenant.name)


def list_tokens(
    session: Session,
    tenant_name: str | None = None,
    include_expired: bool = False,
    *,
    now: datetime | None = None,
) -> tuple[TokenInfo, ...]:
    """Tokens by issue time; expired ones only with ``include_expired`` (revoked ones shown)."""
    query = _with_tenant_name().order_by(IssuedToken.issued_at, IssuedToken.jti)
    if tenant_name is not None:
        query = query.where(IssuedToken.tenant_id == tenant_row(session, tenant_name).id)
    if not include_expired:
        query = query.where(IssuedToken.expires_at > checked_now(now))
    return tuple(_token_info(row, name) for row, name in session.execute(query).tuples())


def count_live_tokens(session: Session, tenant_name: str, *, now: datetime | None = None) -> int:
    """Tokens of the tenant that are neither revoked nor expired."""
    count = session.scalar(
        select(func.count())
        .select_from(IssuedToken)
        .where(
            IssuedToken.tenant_id == tenant_row(session, tenant_name).id,
            IssuedToken.revoked_at.is_(None),
            IssuedToken.expires_at > checked_now(now),
        )
    )
    return count or 0


def revoke_token(session: Session, jti: str, *, now: datetime | None = None) -> TokenInfo:
    """Revoke a token; revoking it again keeps the first revocation time."""
    found = session.execute(_with_tenant_name().where(IssuedToken.jti == jti)).tuples().first()
    if found is None:
        raise NotFoundError(f"token {jti!r} not found", param="jti", code="token_not_found")
    row, tenant_name = found
    if row.revoked_at is None:
        row.revoked_at = checked_now(now)
        session.flush()
    return _token_info(row, tenant_name)


def find_token_state(session: Session, jti: str) -> TokenState | None:
    """The token's revocation, expiry and tenant status in one query (the gateway's hot path)."""
    found = session.execute(
        select(
            IssuedToken.jti,
            Tenant.name,
            Tenant.status,
            IssuedToken.revoked_at,
            IssuedToken.expires_at,
        )
        .join(Tenant, IssuedToken.tenant_id == Tenant.id)
        .where(IssuedToken.jti == jti)
    ).first()
    if found is None:
        return None
    return TokenState(
        jti=found.jti,
        tenant=found.name,
        tenant_status=TenantStatus(found.status),
        revoked_at=found.revoked_at,
        expires_at=found.expires_at,
    )


def _with_tenant_name() -> Select[IssuedToken, str]:
    return select(IssuedToken, Tenant.name).join(Tenant, IssuedToken.tenant_id == Tenant.id)


def _token_info(row: IssuedToken, tenant_name: str) -> TokenInfo:
    return TokenInfo(
        jti=row.jti,
        subject=row.subject,
        tenant=tenant_name,
        roles=tuple(row.roles.split()),
        kid=row.kid,
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def _duplicate(jti: str) -> ConflictError:
    return ConflictError(f"token {jti!r} is already recorded", param="jti", code="token_exists")
