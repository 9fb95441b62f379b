"""The in-process store: least recently used answers go first, each tenant bounded on its own.

Two bounds hold at once: the policy's ``max_entries`` per tenant (so one busy tenant cannot
push out another's answers) and ``max_entries`` for the whole process (from settings).
Expired answers are dropped when they are next read, or pushed out by newer ones.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Stored:
    value: bytes
    expires_at: float


class MemoryCacheStore:
    """Bounded LRU with a TTL per entry. Safe within one event loop (no awaits inside)."""

    description = "memory"

    def __init__(self, *, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        if max_entries < 1:
            raise ValueError("the cache needs room for at least one entry")
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], _Stored] = OrderedDict()
        self._by_tenant: dict[str, OrderedDict[str, None]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, tenant: str, key: str) -> bytes | None:
        stored = self._entries.get((tenant, key))
        if stored is None:
            return None
        if stored.expires_at <= self._clock():
            self._drop((tenant, key))
            return None
        self._entries.move_to_end((tenant, key))
        self._by_tenant[tenant].move_to_end(key)
        return stored.value

    async def put(
        self, tenant: str, key: str, value: bytes, *, ttl_seconds: int, max_entries: int
    ) -> None:
        self._entries[(tenant, key)] = _Stored(value, self._clock() + ttl_seconds)
        self._entries.move_to_end((tenant, key))
        keys = self._by_tenant.setdefault(tenant, OrderedDict())
        keys[key] = None
        keys.move_to_end(key)
        while len(keys) > max_entries:
            self._drop((tenant, next(iter(keys))))
        while len(self._entries) > self._max_entries:
            self._drop(next(iter(self._entries)))

    async def close(self) -> None:
        self._entries.clear()
        self._by_tenant.clear()

    def _drop(self, address: tuple[str, str]) -> None:
        tenant, key = address
        del self._entries[address]
        keys = self._by_tenant[tenant]
        del keys[key]
        if not keys:
            del self._by_tenant[tenant]
