"""Tenants: create, look up, suspend/resume and delete.

Deleting a tenant deletes its issued-token rows in the same transaction. The gateway
refuses any of its own tokens whose ``jti`` has no row, so every token of a deleted
tenant stops working at once, also if a tenant of the same name is created later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.db.models import IssuedToken, Tenant
from gateway.errors import ConflictError, InvalidRequestError, NotFoundError
from gateway.identity.clock import utc_now
from gateway.identity.validation import checked_name


class TenantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class TenantInfo:
    name: str
    department: str
    status: TenantStatus
    created_at: datetime
    updated_at: datetime

    @property
    def is_active(self) -> bool:
        return self.status is TenantStatus.ACTIVE


@dataclass(frozen=True, slots=True)
class DeletedTenant:
    tenant: TenantInfo
    tokens_removed: int
    """Issued-token rows deleted with the tenant (live, expired and revoked alike)."""


def create_tenant(session: Session, name: str, department: str) -> TenantInfo:
    """A new active tenant; ConflictError if the name is taken."""
    checked_name(name, param="name")
    checked_name(department, param="department")
    if find_tenant(session, name) is not None:
        raise _exists(name)
    now = utc_now()
    row = Tenant(
        name=name,
        department=department,
        status=TenantStatus.ACTIVE.value,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # created by someone else since the check above
        raise _exists(name) from exc
    return tenant_info(row)


def list_tenants(session: Session) -> tuple[TenantInfo, ...]:
    rows = session.scalars(select(Tenant).order_by(Tenant.name))
    return tuple(tenant_info(row) for row in rows)


def find_tenant(session: Session, name: str) -> TenantInfo | None:
    row = session.scalar(select(Tenant).where(Tenant.name == name))
    return None if row is None else tenant_info(row)


def get_tenant(session: Session, name: str) -> TenantInfo:
    """The tenant called ``name``; NotFoundError (``tenant_not_found``) if there is none."""
    return tenant_info(tenant_row(session, name))


def set_tenant_status(session: Session, name: str, status: TenantStatus | str) -> TenantInfo:
    """Suspend or resume a tenant (setting the status it already has changes nothing)."""
    wanted = _checked_status(status)
    row = tenant_row(session, name)
    if row.status != wanted.value:
        row.status = wanted.value
        row.updated_at = utc_now()
        session.flush()
    return tenant_info(row)


def delete_tenant(session: Session, name: str) -> DeletedTenant:
    """Delete the tenant and its issued-token rows (so its tokens are refused from now on)."""
    row = tenant_row(session, name)
    info = tenant_info(row)
    removed = session.scalar(
        select(func.count()).select_from(IssuedToken).where(IssuedToken.tenant_id == row.id)
    )
    session.execute(delete(IssuedToken).where(IssuedToken.tenant_id == row.id))
    session.delete(row)
    session.flush()
    return DeletedTenant(tenant=info, tokens_removed=removed or 0)


def tenant_row(session: Session, name: str) -> Tenant:
    """The ORM row, for other identity services; NotFoundError if there is none."""
    row = session.scalar(select(Tenant).where(Tenant.name == name))
    if row is None:
        raise NotFoundError(f"tenant {name!r} not found", param="tenant", code="tenant_not_found")
    return row


def tenant_info(row: Tenant) -> TenantInfo:
    return TenantInfo(
        name=row.name,
        department=row.department,
        status=TenantStatus(row.status),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _checked_status(status: TenantStatus | str) -> TenantStatus:
    try:
        return TenantStatus(status)
    except ValueError:
        raise InvalidRequestError(
            f"tenant status must be one of {', '.join(TenantStatus)}", param="status"
        ) from None


def _exists(name: str) -> ConflictError:
    return ConflictError(f"tenant {name!r} already exists", param="name", code="tenant_exists")
