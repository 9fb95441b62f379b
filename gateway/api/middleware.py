"""ASGI middleware that gives every request an id, binds it to logs and returns it as a header."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable

import structlog
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from gateway.audit_gate import AuditGate
from gateway.auth.principal import Principal
from gateway.metrics.registry import GatewayMetrics
from gateway.timings import TIMINGS_KEY, RequestTimings

REQUEST_ID_HEADER = b"x-request-id"
STATUS_KEY = "response_status"

log = structlog.get_logger("enclave.access")


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_of(scope: Scope) -> str:
    """The id the middleware assigned to this request."""
    state = scope.get("state") or {}
    value = state.get("request_id")
    return value if isinstance(value, str) else new_request_id()


def request_context(metrics: GatewayMetrics) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware: a request id (bound to logs), timings, then metrics and an access log line."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            state = scope.setdefault("state", {})
            request_id = state.setdefault("request_id", new_request_id())
            timings = RequestTimings()
            state[TIMINGS_KEY] = timings
            status = 500
            with structlog.contextvars.bound_contextvars(request_id=request_id):
                try:
                    await app(scope, receive, send)
                    status = int(state.get(STATUS_KEY, 500))
                except Exception as exc:  # answered by the exception handlers, outside this
                    status = int(getattr(exc, "status_code", 500))
                    raise
                finally:
                    _account(scope, status, timings, metrics)

        return middleware

    return wrap


def stamp_responses(audit: AuditGate) -> Callable[[Message, Scope], Awaitable[None]]:
    """``before_send`` hook: every response (error responses too) gets ``x-request-id``, and a
    refused request's audit record is written before its error response goes out."""

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        state = scope.setdefault("state", {})
        request_id = state.setdefault("request_id", new_request_id())
        state[STATUS_KEY] = message["status"]
        if message["status"] >= 400:
            await audit.record_refusal(scope, message["status"])
        headers = list(message.get("headers", []))
        headers.append((REQUEST_ID_HEADER, str(request_id).encode()))
        message["headers"] = headers

    return before_send


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
