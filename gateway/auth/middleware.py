"""Authenticate every non-public request; the Principal lands in scope["user"]."""

from __future__ import annotations

from typing import Any, Final

import structlog
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from gateway.auth.client_cert import ConnectionAuthenticator

AUDIT_UI_PATH: Final = "/audit/ui"
AUDIT_UI_COOKIE: Final = "enclave_audit_token"
"""Set by the audit pages' login form; read on routes under ``AUDIT_UI_PATH`` only."""


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        authenticator: ConnectionAuthenticator = connection.app.state.authenticator
        principal = await authenticator.authenticate(connection.scope, credentials_of(connection))
        structlog.contextvars.bind_contextvars(
            tenant=principal.tenant, department=principal.department
        )
        return AuthenticationResult(user=principal, auth=principal.token_id)


def credentials_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The Authorization header; failing that, on the audit web pages only, the login cookie."""
    authorization = connection.headers.get("authorization")
    if authorization or not _is_audit_page(connection):
        return authorization
    token = connection.cookies.get(AUDIT_UI_COOKIE)
    return f"Bearer {token}" if token else None


def _is_audit_page(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Judged on the route that matched (not the raw path), so no path trick reaches further."""
    template = connection.scope.get("path_template")
    return isinstance(template, str) and (
        template == AUDIT_UI_PATH or template.startswith(f"{AUDIT_UI_PATH}/")
    )
