"""Response-cache tests: the shared Redis fixtures of the rate-limit tests (fail, never skip)."""

from __future__ import annotations

from tests.integration.ratelimit.conftest import anyio_backend, key_prefix, redis_url

__all__ = ["anyio_backend", "key_prefix", "redis_url"]
