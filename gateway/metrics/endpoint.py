"""Two ways to serve ``/metrics``; the app picks one from its settings.

* ``metrics_route(metrics, required_role="admin")``: on the gateway's HTTPS port,
  behind the same JWT authentication as the API, for callers with that role.
* ``metrics_app(metrics)``: a bare ASGI app for a separate plain-HTTP listener that only
  the cluster's Prometheus can reach (a separate port, closed to API clients by the
  Service and a NetworkPolicy). It answers ``GET /metrics`` and nothing else.

Either way the body is rendered in a worker thread: a scrape never stalls the event
loop, however many series there are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio.to_thread
from litestar import Request, Response, get
from litestar.handlers import HTTPRouteHandler

from gateway.auth.guards import requires_role
from gateway.metrics.registry import GatewayMetrics

METRICS_PATH = "/metrics"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def metrics_route(metrics: GatewayMetrics, *, required_role: str) -> HTTPRouteHandler:
    """``GET /metrics`` for the gateway's own app, open only to ``required_role``."""

    @get(
        METRICS_PATH,
        guards=[requires_role(required_role)],
        include_in_schema=False,
        sync_to_thread=True,
    )
    def serve_metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
        body, content_type = metrics.render(request.headers.get("accept", ""))
        return Response(content=body, media_type=content_type)

    return serve_metrics


class MetricsApp:
    """ASGI app serving ``GET /metrics`` (404 or 405 for anything else)."""

    def __init__(self, metrics: GatewayMetrics) -> None:
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _answer_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if scope["path"] != METRICS_PATH:
            await _send(send, 404, b"not found\n", "text/plain; charset=utf-8")
            return
        if scope["method"] != "GET":
            await _send(send, 405, b"method not allowed\n", "text/plain; charset=utf-8")
            return
        accept = _header(scope, b"accept")
        body, content_type = await anyio.to_thread.run_sync(self._metrics.render, accept)
        await _send(send, 200, body, content_type)


def metrics_app(metrics: GatewayMetrics) -> MetricsApp:
    return MetricsApp(metrics)


async def _answer_lifespan(receive: Receive, send: Send) -> None:
    """Nothing to start or stop: acknowledge both, so uvicorn's lifespan="auto" is happy."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


async def _send(send: Send, status: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode("latin-1"))]
    headers.append((b"content-length", str(len(body)).encode("ascii")))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
