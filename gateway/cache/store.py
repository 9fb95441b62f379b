"""Where cached answers live: this process's memory, or a Redis every replica shares."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

from gateway.errors import ConfigurationError

MEMORY_SCHEMES = frozenset({"memory"})
REDIS_SCHEMES = frozenset({"redis", "rediss"})


class CacheStoreError(Exception):
    """The store could not answer; the request goes on as a miss."""


class CacheStore(Protocol):
    """Answers by tenant and key, each kept for a time and at most so many per tenant."""

    @property
    def description(self) -> str:
        """Scheme and host only (never credentials), for logs."""
        ...

    async def get(self, tenant: str, key: str) -> bytes | None:
        """The stored answer, or None; ``CacheStoreError`` when the store cannot say."""
        ...

    async def put(
        self, tenant: str, key: str, value: bytes, *, ttl_seconds: int, max_entries: int
    ) -> None:
        """Keep ``value`` for ``ttl_seconds``, dropping the tenant's least recently used
        answers beyond ``max_entries``; ``CacheStoreError`` when the store cannot."""
        ...

    async def close(self) -> None: ...


def open_cache_store(
    url: str,
    *,
    key_prefix: str,
    max_entries: int,
    timeout_seconds: float,
    clock: Callable[[], float] = time.monotonic,
) -> CacheStore:
    """The store named by ``url`` (``memory://`` or ``redis://host:port/db``).

    Nothing touches the network here: an unreachable Redis shows up as misses.
    """
    scheme = urlsplit(url).scheme
    if scheme in MEMORY_SCHEMES:
        from gateway.cache.memory import MemoryCacheStore

        return MemoryCacheStore(max_entries=max_entries, clock=clock)
    if scheme in REDIS_SCHEMES:
        from gateway.cache.redis_store import RedisCacheStore

        return RedisCacheStore.from_url(url, key_prefix=key_prefix, timeout_seconds=timeout_seconds)
    raise ConfigurationError(
        f"ENCLAVE_CACHE_STORAGE: unsupported scheme {scheme!r}: use memory:// or redis://"
    )
