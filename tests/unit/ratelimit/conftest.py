"""Fixtures for the rate limiter on its in-process ``memory://`` store."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.ratelimit import RateLimiter
from tests.unit.ratelimit.clock import FakeClock


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def limiter(clock: FakeClock) -> AsyncIterator[RateLimiter]:
    limiter = await RateLimiter.connect("memory://", slot_ttl_seconds=1, clock=clock)
    yield limiter
    await limiter.close()
