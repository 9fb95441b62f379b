"""Render every error as OpenAI's ``{"error": {...}}`` envelope; never leak internals."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException

from gateway.audit_gate import REFUSAL_KEY
from gateway.auth.middleware import AUDIT_UI_PATH
from gateway.errors import (
    GatewayError,
    InternalError,
    InvalidRequestError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
)

log = structlog.get_logger("enclave.errors")

_BY_STATUS: dict[int, type[GatewayError]] = {
    400: InvalidRequestError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    413: PayloadTooLargeError,
}


def error_response(error: GatewayError) -> Response[Any]:
    return Response(content=error.to_body(), status_code=error.status_code, headers=error.headers)


def handle_gateway_error(request: Request[Any, Any, Any], exc: GatewayError) -> Response[Any]:
    log.info("refused", status=exc.status_code, code=exc.code, error_type=exc.error_type)
    counts = getattr(exc, "entity_counts", None)
    request.scope.setdefault("state", {})[REFUSAL_KEY] = (
        exc.code or exc.error_type,
        dict(counts) if isinstance(counts, dict) else {},
    )
    if exc.status_code == 401 and _is_audit_page_visit(request):
        return _redirect_to_login()
    return error_response(exc)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    error: GatewayError
    error_class = _BY_STATUS.get(exc.status_code)
    if error_class is None:
        if exc.status_code >= 500:
            return handle_unexpected(request, exc)
        error = InvalidRequestError(_public_detail(exc))
        error.status_code = exc.status_code
    else:
        error = error_class(_public_detail(exc))
    return handle_gateway_error(request, error)


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("internal error", exc_type=type(exc).__name__, exc_info=exc)
    return error_response(InternalError("the gateway hit an internal error; it has been logged"))


def _is_audit_page_visit(request: Request[Any, Any, Any]) -> bool:
    """A browser opening an audit page without (valid) credentials: send it to the login form."""
    path = request.scope["path"]
    on_pages = path == AUDIT_UI_PATH or path.startswith(f"{AUDIT_UI_PATH}/")
    return on_pages and request.method == "GET" and "text/html" in request.headers.get("accept", "")


def _redirect_to_login() -> Response[Any]:
    return Response(
        content=b"",
        status_code=303,
        headers={"location": f"{AUDIT_UI_PATH}/login", "cache-control": "no-store"},
    )


def _public_detail(exc: HTTPException) -> str:
    detail = exc.detail or "request refused"
    if exc.status_code == 404:
        return "no such route"
    if exc.status_code == 405:
        return "method not allowed on this route"
    if exc.status_code == 413:
        return "request body is too large"
    return detail
