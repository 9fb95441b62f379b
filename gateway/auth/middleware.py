"""Authenticate every non-public request; the Principal lands in scope["user"]."""

from __future__ import annotations

from typing import Any

import structlog
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from gateway.auth.verify import TokenVerifier


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        verifier: TokenVerifier = connection.app.state.verifier
        principal = await verifier.authenticate(connection.headers.get("authorization"))
        structlog.contextvars.bind_contextvars(
            tenant=principal.tenant, department=principal.department
        )
        return AuthenticationResult(user=principal, auth=principal.token_id)
