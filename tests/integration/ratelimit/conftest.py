"""Rate-limit tests against the real Redis at 127.0.0.1:6379 (they fail, never skip, without it)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import redis

from gateway.ratelimit import RateLimiter
from tests.integration.ratelimit.tcp_proxy import TcpProxy
from tests.unit.ratelimit.clock import FakeClock

REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/0"

OpenLimiter = Callable[..., Awaitable[RateLimiter]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The shared Redis; a test that needs it fails with the reason when it does not answer."""
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis at {REDIS_HOST}:{REDIS_PORT} is unreachable: {error!r}")
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    """A prefix no other test uses; its keys are deleted afterwards."""
    prefix = f"enclave-test-{uuid.uuid4().hex}"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def open_limiter(
    redis_url: str, key_prefix: str, clock: FakeClock
) -> AsyncIterator[OpenLimiter]:
    """Opens limiters ("replicas") on the shared Redis with this test's prefix and clock."""
    opened: list[RateLimiter] = []

    async def open_one(url: str = redis_url, **options: Any) -> RateLimiter:
        options.setdefault("clock", clock)
        limiter = await RateLimiter.connect(url, key_prefix=key_prefix, **options)
        opened.append(limiter)
        return limiter

    yield open_one
    for limiter in opened:
        await limiter.close()


@pytest.fixture
async def redis_proxy(redis_url: str) -> AsyncIterator[TcpProxy]:
    proxy = TcpProxy(REDIS_HOST, REDIS_PORT)
    await proxy.start()
    yield proxy
    await proxy.close()
