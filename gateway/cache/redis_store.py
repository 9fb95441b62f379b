"""The shared store: one Redis for every replica, expiry by Redis itself (``SET ... EX``).

Keys are ``{prefix}:cache:{tenant}:{sha256}`` for answers and ``{prefix}:cache:{tenant}:lru``
for the tenant's recency index (a sorted set ordered by last use). The tenant is a hash tag,
so a tenant's keys share one cluster slot. Both operations are one Lua script each: a read
marks the answer as used (or drops an expired one from the index); a write stores it with
its TTL and deletes the tenant's least recently used answers beyond the policy's bound.
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from gateway.cache.store import CacheStoreError

MAX_CONNECTIONS: Final = 32
"""Connections one replica keeps to the cache; more callers wait their turn (up to the timeout)."""

_NEXT_USE: Final = """
local function next_use(index)
  local newest = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
  if newest[2] then return tonumber(newest[2]) + 1 end
  return 1
end
"""
"""Scores count uses (not clock time), so recency is exact even within one millisecond."""

_GET: Final = (
    _NEXT_USE
    + """
local value = redis.call('GET', KEYS[1])
if value then
  redis.call('ZADD', KEYS[2], 'XX', next_use(KEYS[2]), ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return value
"""
)

_PUT: Final = (
    _NEXT_USE
    + """
local ttl, bound = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
redis.call('ZADD', KEYS[2], next_use(KEYS[2]), ARGV[4])
local excess = redis.call('ZCARD', KEYS[2]) - bound
if excess > 0 then
  for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess - 1)) do
    redis.call('DEL', ARGV[5] .. member)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
end
redis.call('EXPIRE', KEYS[2], ttl)
return excess
"""
)


class RedisCacheStore:
    """Answers in Redis; every Redis failure becomes ``CacheStoreError``."""

    def __init__(self, client: redis.asyncio.Redis, *, key_prefix: str, description: str) -> None:
        self._client = client
        self._prefix = key_prefix
        self.description = description
        self._get = client.register_script(_GET)
        self._put = client.register_script(_PUT)

    @classmethod
    def from_url(cls, url: str, *, key_prefix: str, timeout_seconds: float) -> RedisCacheStore:
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=timeout_seconds,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 1),
        )
        parts = urlsplit(url)
        description = f"{parts.scheme}://{parts.hostname}:{parts.port or 6379}"
        client = redis.asyncio.Redis(connection_pool=pool)
        return cls(client, key_prefix=key_prefix, description=description)

    def entry_key(self, tenant: str, key: str) -> str:
        return f"{self._tenant_prefix(tenant)}{key}"

    def index_key(self, tenant: str) -> str:
        return f"{self._tenant_prefix(tenant)}lru"

    async def get(self, tenant: str, key: str) -> bytes | None:
        keys = [self.entry_key(tenant, key), self.index_key(tenant)]
        try:
            value = await self._get(keys=keys, args=[key])
        except RedisError as exc:
            raise CacheStoreError(type(exc).__name__) from exc
        return value if isinstance(value, bytes) else None

    async def put(
        self, tenant: str, key: str, value: bytes, *, ttl_seconds: int, max_entries: int
    ) -> None:
        keys = [self.entry_key(tenant, key), self.index_key(tenant)]
        prefix = self._tenant_prefix(tenant)
        args: list[bytes | str | int] = [value, ttl_seconds, max_entries, key, prefix]
        try:
            await self._put(keys=keys, args=args)
        except RedisError as exc:
            raise CacheStoreError(type(exc).__name__) from exc

    async def close(self) -> None:
        await self._client.aclose()
        await self._client.connection_pool.disconnect()

    def _tenant_prefix(self, tenant: str) -> str:
        return f"{self._prefix}:cache:{{{tenant}}}:"
