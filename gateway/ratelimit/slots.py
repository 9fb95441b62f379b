"""Concurrency slots: how many requests of a scope are in flight, across every replica.

`limits` counts events in windows; it has no notion of something held and then given
back. A slot is therefore a member of a sorted set per scope (member = request id,
score = expiry in milliseconds on the store's clock). One Lua script purges expired
members, counts, and adds if below the limit, atomically; a slot whose replica died
without releasing it simply expires. ``MemorySlots`` does the same inside one process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import quote

import redis.asyncio

from gateway.ratelimit.outage import store_call
from gateway.ratelimit.quota import QuotaScope

_NOW_MS = """
local clock = redis.call('TIME')
local now_ms = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
"""

_HOLD_UNTIL = """
local function hold_until(expires_ms, ttl_ms)
    redis.call('ZADD', KEYS[1], expires_ms, ARGV[1])
    if redis.call('PTTL', KEYS[1]) < ttl_ms then
        redis.call('PEXPIRE', KEYS[1], ttl_ms)
    end
end
"""

# KEYS[1] = the scope's slot set; ARGV = request id, limit, ttl in ms. Returns 1 if held.
ACQUIRE_SLOT_LUA = (
    _NOW_MS
    + _HOLD_UNTIL
    + """
local limit = tonumber(ARGV[2])
local ttl_ms = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
    if redis.call('ZCARD', KEYS[1]) >= limit then
        return 0
    end
end
hold_until(now_ms + ttl_ms, ttl_ms)
return 1
"""
)

# KEYS[1] = the scope's slot set; ARGV = request id, ttl in ms. Returns 0 if already expired.
EXTEND_SLOT_LUA = (
    _NOW_MS
    + _HOLD_UNTIL
    + """
local ttl_ms = tonumber(ARGV[2])
local expires_ms = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1]))
if not expires_ms or expires_ms <= now_ms then
    redis.call('ZREM', KEYS[1], ARGV[1])
    return 0
end
hold_until(now_ms + ttl_ms, ttl_ms)
return 1
"""
)


class SlotStore(Protocol):
    """Holds, extends and frees concurrency slots; every method is atomic in the store."""

    async def acquire(self, key: str, request_id: str, limit: int, ttl_seconds: int) -> bool: ...

    async def extend(self, key: str, request_id: str, ttl_seconds: int) -> bool: ...

    async def release(self, key: str, request_id: str) -> None: ...


def slot_key(key_prefix: str, scope: QuotaScope) -> str:
    return f"{key_prefix}:slots:{scope.kind}:{quote(scope.name, safe='')}"


class RedisSlots:
    """Slots shared by every replica through one Redis."""

    def __init__(self, client: redis.asyncio.Redis) -> None:
        self._client = client
        self._acquire = client.register_script(ACQUIRE_SLOT_LUA)
        self._extend = client.register_script(EXTEND_SLOT_LUA)

    async def acquire(self, key: str, request_id: str, limit: int, ttl_seconds: int) -> bool:
        async with store_call("slot acquire"):
            held = await self._acquire(keys=[key], args=[request_id, limit, ttl_seconds * 1000])
        return bool(held)

    async def extend(self, key: str, request_id: str, ttl_seconds: int) -> bool:
        async with store_call("slot keep-alive"):
            held = await self._extend(keys=[key], args=[request_id, ttl_seconds * 1000])
        return bool(held)

    async def release(self, key: str, request_id: str) -> None:
        async with store_call("slot release"):
            await self._client.zrem(key, request_id)


class MemorySlots:
    """Slots of one process (the ``memory://`` store and the local fallback)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._expiries: dict[str, dict[str, float]] = {}

    async def acquire(self, key: str, request_id: str, limit: int, ttl_seconds: int) -> bool:
        held = self._live(key)
        if request_id not in held and len(held) >= limit:
            return False
        held[request_id] = self._clock() + ttl_seconds
        return True

    async def extend(self, key: str, request_id: str, ttl_seconds: int) -> bool:
        held = self._live(key)
        if request_id not in held:
            return False
        held[request_id] = self._clock() + ttl_seconds
        return True

    async def release(self, key: str, request_id: str) -> None:
        held = self._expiries.get(key)
        if held is not None:
            held.pop(request_id, None)
            if not held:
                del self._expiries[key]

    def _live(self, key: str) -> dict[str, float]:
        now = self._clock()
        held = self._expiries.setdefault(key, {})
        for request_id in [member for member, expiry in held.items() if expiry <= now]:
            del held[request_id]
        return held
