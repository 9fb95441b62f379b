"""Request, burst and token counters: clock-aligned fixed windows on the `limits` library.

Each counter key names its window (``.../tokens/<window index>/...``), so a refund is sent
to the exact window its reservation was taken from and can never credit a later one.
Counting is one atomic ``INCRBY`` in the store (limits' ``incr`` script), so replicas
sharing Redis never race on read-then-write.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from limits import RateLimitItem, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter

from gateway.ratelimit.outage import StoreUnavailableError, store_call
from gateway.ratelimit.quota import QuotaScope

WindowKind = Literal["requests", "burst", "tokens"]

# Keys outlive their window so that replicas with slightly different clocks still find the
# counter of a window that has just ended on the store's clock; nobody reads it afterwards.
KEY_LIFETIME_WINDOWS = 2


class RefundableFixedWindow(FixedWindowRateLimiter):
    """limits' fixed window strategy, returning the new count and accepting refunds."""

    async def consume(self, item: RateLimitItem, *identifiers: str, cost: int) -> int:
        """Add ``cost`` atomically and return the counter's new value (admitted if <= limit)."""
        key_lifetime = item.get_expiry() * KEY_LIFETIME_WINDOWS
        return await self.storage.incr(item.key_for(*identifiers), key_lifetime, amount=cost)

    async def refund(self, item: RateLimitItem, *identifiers: str, amount: int) -> None:
        """Take ``amount`` back off the counter named by ``identifiers``."""
        key_lifetime = item.get_expiry() * KEY_LIFETIME_WINDOWS
        await self.storage.incr(item.key_for(*identifiers), key_lifetime, amount=-amount)


@dataclass(frozen=True, slots=True)
class WindowLimit:
    """One counter a request must pass: a scope's requests, burst or tokens limit."""

    scope: QuotaScope
    kind: WindowKind
    item: RateLimitItem
    cost: int

    @property
    def amount(self) -> int:
        return self.item.amount

    @property
    def width_seconds(self) -> int:
        return self.item.get_expiry()


@dataclass(frozen=True, slots=True)
class WindowHit:
    """What one counter said: the window it counted in and its value after this request."""

    limit: WindowLimit
    window: int
    count: int

    @property
    def admitted(self) -> bool:
        return self.count <= self.limit.amount

    @property
    def remaining(self) -> int:
        return max(0, self.limit.amount - self.count)

    @property
    def reset_at(self) -> float:
        """When this window ends (seconds since the epoch)."""
        return float((self.window + 1) * self.limit.width_seconds)

    def without_own_cost(self) -> WindowHit:
        """The counter as it stands once this request's cost has been given back."""
        return dataclasses.replace(self, count=self.count - self.limit.cost)


def window_limits(scopes: Sequence[QuotaScope], estimated_tokens: int) -> list[WindowLimit]:
    """Every counter the scopes ask for, in a fixed order: scope by scope, requests first."""
    if estimated_tokens < 0:
        raise ValueError("estimated_tokens must not be negative")
    found: list[WindowLimit] = []
    for scope in scopes:
        quota = scope.quota
        if quota.requests_per_minute is not None:
            item = RateLimitItemPerMinute(quota.requests_per_minute)
            found.append(WindowLimit(scope, "requests", item, 1))
        if quota.burst is not None:
            found.append(WindowLimit(scope, "burst", RateLimitItemPerSecond(quota.burst), 1))
        if quota.tokens_per_minute is not None:
            item = RateLimitItemPerMinute(quota.tokens_per_minute)
            found.append(WindowLimit(scope, "tokens", item, estimated_tokens))
    return found


class WindowCounters:
    """Takes, gives back and settles window counters in one `limits` storage."""

    def __init__(self, storage: Storage, clock: Callable[[], float]) -> None:
        self._strategy = RefundableFixedWindow(storage)
        self._clock = clock

    async def take(self, limits: Sequence[WindowLimit]) -> list[WindowHit]:
        """Count this request in every limit at once; all are counted, admitted or not.

        If the store fails part-way, whatever was counted is given back (best effort) and
        ``StoreUnavailableError`` is raised.
        """
        now = self._clock()
        outcomes = await asyncio.gather(
            *(self._take_one(limit, now) for limit in limits), return_exceptions=True
        )
        hits = [outcome for outcome in outcomes if isinstance(outcome, WindowHit)]
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        if failures:
            await self._give_back_best_effort(hits)
            raise failures[0]
        return hits

    async def give_back(self, hits: Sequence[WindowHit]) -> None:
        """Undo whole hits, each in the window it was counted in."""
        await asyncio.gather(*(self._refund(hit, hit.limit.cost) for hit in hits))

    async def settle(self, hit: WindowHit, actual: int) -> None:
        """Turn a reservation into real usage: refund the unused part, charge any overrun.

        A refund goes only into the reservation's own window and is dropped once that
        window has ended; an overrun is charged to the window that is current now.
        """
        difference = max(0, actual) - hit.limit.cost
        if difference < 0 and self.is_current(hit):
            await self._refund(hit, -difference)
        elif difference > 0:
            await self._take_one(dataclasses.replace(hit.limit, cost=difference), self._clock())

    def is_current(self, hit: WindowHit) -> bool:
        return self._window_of(hit.limit, self._clock()) == hit.window

    def now(self) -> float:
        return self._clock()

    async def _take_one(self, limit: WindowLimit, now: float) -> WindowHit:
        window = self._window_of(limit, now)
        async with store_call(f"{limit.kind} count"):
            count = await self._strategy.consume(
                limit.item, *_identifiers(limit, window), cost=limit.cost
            )
        return WindowHit(limit, window, count)

    async def _refund(self, hit: WindowHit, amount: int) -> None:
        if amount <= 0:
            return
        async with store_call(f"{hit.limit.kind} refund"):
            await self._strategy.refund(
                hit.limit.item, *_identifiers(hit.limit, hit.window), amount=amount
            )

    async def _give_back_best_effort(self, hits: Sequence[WindowHit]) -> None:
        # The store already failed once; a leftover count expires with its window.
        for hit in hits:
            try:
                await self._refund(hit, hit.limit.cost)
            except StoreUnavailableError:
                return

    @staticmethod
    def _window_of(limit: WindowLimit, now: float) -> int:
        return int(now // limit.width_seconds)


def _identifiers(limit: WindowLimit, window: int) -> tuple[str, ...]:
    # Names are quoted so that a "/" in a tenant name cannot forge another scope's key.
    return (limit.scope.kind, quote(limit.scope.name, safe=""), limit.kind, str(window))
