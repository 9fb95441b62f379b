"""The compliance API's search filters, read from the query and pinned to the caller's tenant."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

from litestar import Request
from litestar.params import Parameter

from gateway.audit.query import AuditFilters
from gateway.auth.guards import principal_of
from gateway.errors import InvalidRequestError, PermissionDeniedError

MAX_EVENT_ID: Final = 2**63 - 1
"""Audit record ids are 64-bit in every database; a larger number names no record (and
would overflow the database driver), so it is refused as a bad request."""
EventId = Annotated[int, Parameter(ge=1, le=MAX_EVENT_ID)]
"""An audit record id in a path (``/audit/events/{event_id}``)."""
Cursor = Annotated[int | None, Parameter(ge=1, le=MAX_EVENT_ID)]
"""``next_cursor`` of the previous page: an audit record id."""


def tenant_filters(
    request: Request[Any, Any, Any],
    tenant: str | None = None,
    department: str | None = None,
    subject: str | None = None,
    since: str | None = None,
    until: str | None = None,
    decision: str | None = None,
    entity_type: str | None = None,
    status: str | None = None,
    kind: list[str] | None = None,
    request_id: str | None = None,
) -> AuditFilters:
    """Filters from query parameters (empty means "any"); always limited to the caller's tenant.

    Asking for another tenant is refused (403): a compliance token sees its own tenant only.
    """
    own_tenant = principal_of(request).tenant
    if tenant and tenant != own_tenant:
        raise PermissionDeniedError(
            "a compliance token can only read its own tenant's audit records", param="tenant"
        )
    return AuditFilters(
        tenant=own_tenant,
        department=department or None,
        subject=subject or None,
        since=utc_moment(since, "since"),
        until=utc_moment(until, "until"),
        decision=decision or None,
        entity_type=entity_type or None,
        status=http_status(status),
        kinds=tuple(value for value in kind or () if value),
        request_id=request_id or None,
    )


def utc_moment(text: str | None, param: str) -> datetime | None:
    """``2025-11-25`` (midnight UTC) or an ISO 8601 time (UTC unless it has an offset)."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidRequestError(
            f"{param} must be a date (2025-11-25) or an ISO 8601 time", param=param
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def http_status(text: str | None) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not 100 <= int(text) <= 599:
        raise InvalidRequestError("status must be an HTTP status code", param="status")
    return int(text)
