"""ASGI middleware that gives every request an id, binds it to logs and returns it as a header."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from gateway.auth.principal import Principal
from gateway.metrics.registry import GatewayMetrics
from gateway.timings import TIMINGS_KEY, RequestTimings

REQUEST_ID_HEADER = b"x-request-id"

log = structlog.get_logger("enclave.access")


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_of(scope: Scope) -> str:
    """The id the middleware assigned to this request."""
    state = scope.get("state") or {}
    value = state.get("request_id")
    return value if isinstance(value, str) else new_request_id()


def request_context(metrics: GatewayMetrics) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware: a request id (bound to logs, returned as a header), timings, metrics."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            request_id = new_request_id()
            state = scope.setdefault("state", {})
            state["request_id"] = request_id
            timings = RequestTimings()
            state[TIMINGS_KEY] = timings
            status = 500

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    headers = list(message.get("headers", []))
                    headers.append((REQUEST_ID_HEADER, request_id.encode()))
                    message["headers"] = headers
                await send(message)

            with structlog.contextvars.bound_contextvars(request_id=request_id):
                try:
                    await app(scope, receive, send_with_id)
                finally:
                    _account(scope, status, timings, metrics)

        return middleware

    return wrap


def _account(scope: Scope, status: int, timings: RequestTimings, metrics: GatewayMetrics) -> None:
    total = time.perf_counter() - timings.started
    engine = timings.engine_seconds()
    principal = scope.get("user")
    tenant = principal.tenant if isinstance(principal, Principal) else ""
    department = principal.department if isinstance(principal, Principal) else ""
    route = str(scope.get("path_template") or "unmatched")
    gateway_seconds = max(total - (engine or 0.0), 0.0)
    metrics.observe_request(route, status, tenant, department, gateway_seconds, engine)
    log.info(
        "request",
        method=scope.get("method"),
        path=scope.get("path"),
        status=status,
        duration_ms=round(total * 1000, 2),
    )
