"""Compliance API (role ``compliance``): read-only search, records and verification of the
audit trail, always limited to the caller's own tenant. There are no write routes."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.di import Provide

from gateway.api import audit_ui
from gateway.api.audit_filters import Cursor, EventId, tenant_filters
from gateway.api.audit_reads import Sessions, find_events, find_tenant_event, verify_report
from gateway.api.audit_views import AuditEventPage, AuditEventView, event_view
from gateway.audit.incremental import IncrementalVerifier
from gateway.audit.query import AuditFilters
from gateway.auth.guards import principal_of, requires_role
from gateway.auth.principal import COMPLIANCE_ROLE


@get("/events")
async def list_events(
    sessions: Sessions, filters: AuditFilters, limit: int = 50, cursor: Cursor = None
) -> AuditEventPage:
    page = await find_events(sessions, filters, limit=limit, cursor=cursor)
    return AuditEventPage(
        data=[event_view(record) for record in page.records], next_cursor=page.next_cursor
    )


@get("/events/{event_id:int}")
async def show_event(
    request: Request[Any, Any, Any], sessions: Sessions, event_id: EventId
) -> AuditEventView:
    tenant = principal_of(request).tenant
    return event_view(await find_tenant_event(sessions, tenant, event_id))


@get("/verify")
async def verify(
    request: Request[Any, Any, Any], audit_verifier: IncrementalVerifier
) -> dict[str, Any]:
    return await verify_report(audit_verifier, principal_of(request).tenant)


audit_router = Router(
    path="/audit",
    guards=[requires_role(COMPLIANCE_ROLE)],
    dependencies={"filters": Provide(tenant_filters, sync_to_thread=False)},
    route_handlers=[list_events, show_event, verify, audit_ui.pages_router],
)
