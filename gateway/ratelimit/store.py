"""Where quota state lives: in-process memory, or one Redis that every replica shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio
from limits.aio.storage import MemoryStorage, Storage
from limits.storage import storage_from_string
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from gateway.errors import ConfigurationError
from gateway.ratelimit.slots import MemorySlots, RedisSlots, SlotStore
from gateway.ratelimit.windows import WindowCounters

MEMORY_SCHEMES = frozenset({"memory"})
REDIS_SCHEMES = frozenset({"redis", "rediss"})
# One quick retry covers a pooled connection that Redis closed; more would only stretch
# the time a request waits before it is refused while Redis is down.
REDIS_RETRIES = 1
REDIS_MAX_CONNECTIONS = 64
"""Connections one replica keeps to the shared store; more callers wait their turn."""


@dataclass(frozen=True, slots=True)
class QuotaStore:
    """Window counters and concurrency slots kept in the same place."""

    description: str
    """Scheme and host only (never credentials), for logs."""
    shared: bool
    """True when other replicas see the same counters (Redis)."""
    counters: WindowCounters
    slots: SlotStore
    check: Callable[[], Awaitable[bool]]
    close: Callable[[], Awaitable[None]]


def open_quota_store(
    url: str,
    *,
    key_prefix: str,
    clock: Callable[[], float],
    socket_timeout_seconds: float,
) -> QuotaStore:
    """Build the store named by ``url`` (``memory://`` or ``redis://host:port/db``).

    Nothing touches the network here: an unreachable Redis shows up on first use.
    """
    scheme = urlsplit(url).scheme
    if scheme in MEMORY_SCHEMES:
        return open_memory_store(clock)
    if scheme in REDIS_SCHEMES:
        return open_redis_store(url, key_prefix, clock, socket_timeout_seconds)
    raise ConfigurationError(
        f"unsupported rate-limit storage scheme {scheme!r}: use memory:// or redis://"
    )


def open_memory_store(clock: Callable[[], float]) -> QuotaStore:
    storage = _async_storage(storage_from_string("async+memory://"))

    async def close() -> None:
        if isinstance(storage, MemoryStorage) and storage.timer is not None:
            storage.timer.cancel()

    return QuotaStore(
        description="memory",
        shared=False,
        counters=WindowCounters(storage, clock),
        slots=MemorySlots(),
        check=storage.check,
        close=close,
    )


def open_redis_store(
    url: str, key_prefix: str, clock: Callable[[], float], socket_timeout_seconds: float
) -> QuotaStore:
    # A blocking pool: under load, callers wait (up to the timeout) for a free connection
    # instead of failing with "too many connections" and being refused with a false 503.
    pool = redis.asyncio.BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_MAX_CONNECTIONS,
        timeout=socket_timeout_seconds,
        socket_timeout=socket_timeout_seconds,
        socket_connect_timeout=socket_timeout_seconds,
        retry=Retry(NoBackoff(), REDIS_RETRIES),
    )
    client = redis.asyncio.Redis(connection_pool=pool)
    # limits and the slot scripts share one connection pool (and so its timeouts).
    shared_pool: dict[str, Any] = {"connection_pool": client.connection_pool}
    storage = _async_storage(
        storage_from_string(
            f"async+{url}",
            implementation="redispy",
            wrap_exceptions=True,
            key_prefix=key_prefix,
            **shared_pool,
        )
    )
    parts = urlsplit(url)

    async def close() -> None:
        await client.aclose()
        await pool.disconnect()

    return QuotaStore(
        description=f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}",
        shared=True,
        counters=WindowCounters(storage, clock),
        slots=RedisSlots(client),
        check=storage.check,
        close=close,
    )


def _async_storage(storage: object) -> Storage:
    if not isinstance(storage, Storage):
        raise ConfigurationError("the rate-limit storage is not an asyncio storage")
    return storage
