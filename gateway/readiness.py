"""Readiness: the engine, the database, the rate-limit store and the policy set, and draining."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from engine.protocol import Engine
from gateway.policy.store import PolicyStore
from gateway.ratelimit.limiter import RateLimiter

CHECK_TIMEOUT_SECONDS = 2.0


@dataclass(slots=True)
class Readiness:
    ready: bool
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)


class ReadinessProbe:
    """Asks every dependency whether it can serve now; goes false for good once draining."""

    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        limiter: RateLimiter,
        policies: PolicyStore,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._limiter = limiter
        self._policies = policies
        self.draining = False

    async def check(self) -> Readiness:
        engine, database, store = await asyncio.gather(
            self._engine_check(), self._database_check(), self._store_check()
        )
        checks = {
            "engine": engine,
            "database": database,
            "rate_limit_store": store,
            "policies": {"ready": True, "departments": len(self._policies.current.policies)},
            "draining": {"ready": not self.draining},
        }
        return Readiness(ready=all(check["ready"] for check in checks.values()), checks=checks)

    async def _engine_check(self) -> dict[str, Any]:
        health = await self._engine.health()
        return {"ready": health.ready, "device": health.device, "detail": health.detail}

    async def _database_check(self) -> dict[str, Any]:
        def select_one() -> None:
            with self._sessions() as session:
                session.execute(text("SELECT 1"))

        try:
            with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
                await anyio.to_thread.run_sync(select_one, abandon_on_cancel=True)
        except Exception as exc:  # any failure means "not ready"; the type says why
            return {"ready": False, "detail": type(exc).__name__}
        return {"ready": True}

    async def _store_check(self) -> dict[str, Any]:
        try:
            with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
                reachable = await self._limiter.healthy()
        except Exception as exc:  # a store error is "not ready", never a crash of the probe
            return {"ready": False, "detail": type(exc).__name__}
        return {"ready": reachable}
