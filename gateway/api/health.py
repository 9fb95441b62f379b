"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from litestar import Response, get

from engine.protocol import Engine
from gateway.auth.guards import PUBLIC_OPT_KEY


@get("/healthz", opt={PUBLIC_OPT_KEY: True})
async def healthz() -> dict[str, str]:
    """The process is alive and serving HTTP."""
    return {"status": "ok"}


@get("/readyz", opt={PUBLIC_OPT_KEY: True})
async def readyz(engine: Engine) -> Response[Any]:
    """Ready when the engine can take requests; says which device the engine runs on."""
    health = await engine.health()
    body = {
        "status": "ready" if health.ready else "not ready",
        "checks": {
            "engine": {"ready": health.ready, "device": health.device, "detail": health.detail}
        },
    }
    return Response(content=body, status_code=200 if health.ready else 503)
