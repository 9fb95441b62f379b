"""The compliance web pages under ``/audit/ui``: search, one record, and a login form.

The pages need the ``compliance`` role (the audit router's guard); a browser signs in once
with its token through ``/audit/ui/login``, which sets a cookie read on these pages only.
"""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie

from gateway.api.audit_filters import Cursor, EventId
from gateway.api.audit_pages import (
    SEARCH_FIELDS,
    event_page,
    login_page,
    search_page,
    verification_line,
)
from gateway.api.audit_reads import Sessions, find_events, find_tenant_event, verify_report
from gateway.audit.incremental import IncrementalVerifier
from gateway.audit.query import AuditFilters
from gateway.auth.guards import PUBLIC_OPT_KEY, principal_of
from gateway.auth.middleware import AUDIT_UI_COOKIE, AUDIT_UI_PATH
from gateway.auth.principal import COMPLIANCE_ROLE
from gateway.auth.verify import TokenVerifier
from gateway.errors import GatewayError, ServiceUnavailableError

PAGE_SIZE: Final = 50
PAGE_HEADERS: Final = {
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}


def html_response(
    text: str, *, status_code: int = 200, cookies: list[Cookie] | None = None
) -> Response[str]:
    return Response(
        text,
        status_code=status_code,
        media_type="text/html",
        headers=PAGE_HEADERS,
        cookies=cookies,
    )


@get("/")
async def search(
    request: Request[Any, Any, Any],
    sessions: Sessions,
    audit_verifier: IncrementalVerifier,
    filters: AuditFilters,
    cursor: Cursor = None,
) -> Response[str]:
    page = await find_events(sessions, filters, limit=PAGE_SIZE, cursor=cursor)
    tenant = principal_of(request).tenant
    try:
        verification = verification_line(await verify_report(audit_verifier, tenant))
    except ServiceUnavailableError as exc:
        verification = verification_line(None, exc.message)
    query = {name: request.query_params.get(name, "") for name, _, _ in SEARCH_FIELDS}
    return html_response(search_page(query, page.records, page.next_cursor, verification))


@get("/events/{event_id:int}")
async def show(
    request: Request[Any, Any, Any], sessions: Sessions, event_id: EventId
) -> Response[str]:
    record = await find_tenant_event(sessions, principal_of(request).tenant, event_id)
    return html_response(event_page(record))


@get("/", opt={PUBLIC_OPT_KEY: True})
async def login_form() -> Response[str]:
    return html_response(login_page())


@post("/", opt={PUBLIC_OPT_KEY: True})
async def login(request: Request[Any, Any, Any]) -> Response[str]:
    """Check the token once; a compliance token becomes a Secure, HttpOnly, SameSite cookie."""
    token = (await request.form()).get("token")
    token = token.strip() if isinstance(token, str) else ""
    verifier: TokenVerifier = request.app.state.verifier
    try:
        principal = await verifier.authenticate(f"Bearer {token}")
    except GatewayError:
        return html_response(login_page("That token is not valid."), status_code=401)
    if not principal.has_role(COMPLIANCE_ROLE):
        return html_response(
            login_page(f"That token lacks the '{COMPLIANCE_ROLE}' role."), status_code=403
        )
    cookie = Cookie(
        key=AUDIT_UI_COOKIE,
        value=token,
        path=AUDIT_UI_PATH,
        secure=True,
        httponly=True,
        samesite="strict",
    )
    response = html_response("", status_code=303, cookies=[cookie])
    response.headers["location"] = AUDIT_UI_PATH
    return response


pages_router = Router(path="/ui", route_handlers=[search, show])
"""Mounted inside the audit router, whose guard needs the ``compliance`` role."""

login_router = Router(path=f"{AUDIT_UI_PATH}/login", route_handlers=[login_form, login])
"""Public: the form that turns a compliance token into the pages' cookie."""
