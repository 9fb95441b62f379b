"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from gateway.auth.guards import PUBLIC_OPT_KEY
from gateway.readiness import ReadinessProbe


@get("/healthz", opt={PUBLIC_OPT_KEY: True})
async def healthz() -> dict[str, str]:
    """The process is alive and serving HTTP."""
    return {"status": "ok"}


@get("/readyz", opt={PUBLIC_OPT_KEY: True})
async def readyz(readiness: ReadinessProbe) -> Response[Any]:
    """Ready when the engine, database, rate-limit store and policies can serve, and not draining.

    Says which device the engine runs on (``cpu``, ``cuda``).
    """
    result = await readiness.check()
    body = {"status": "ready" if result.ready else "not ready", "checks": result.checks}
    return Response(content=body, status_code=200 if result.ready else 503)
