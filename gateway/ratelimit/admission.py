"""An admitted request's hold on its quotas: tokens to settle and slots to release."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable, Sequence
from types import TracebackType

import anyio
import structlog

from gateway.ratelimit.outage import StoreHealth, StoreUnavailableError
from gateway.ratelimit.store import QuotaStore
from gateway.ratelimit.windows import WindowHit

# Bounds clean-up that runs while the request is being cancelled (client disconnect).
CLEANUP_TIMEOUT_SECONDS = 5.0


class Admission:
    """Returned by ``RateLimiter.admit``. Use it as an async context manager so that the
    concurrency slots are released however the request ends::

        admission = await limiter.admit(request_id, scopes, estimated_tokens)
        async with admission:
            ...  # call the engine, stream
            await admission.settle(prompt_tokens + completion_tokens)

    Leaving the block releases the slots. Tokens never settled stay charged at the
    estimate (the safe side). Store failures here are logged and counted, never raised:
    the request has already been served, and held state expires on its own.
    """

    def __init__(
        self,
        *,
        request_id: str,
        store: QuotaStore,
        token_hits: Sequence[WindowHit],
        slot_keys: Sequence[str],
        headers: dict[str, str],
        slot_ttl_seconds: int,
        health: StoreHealth,
        logger: structlog.typing.FilteringBoundLogger,
        local_fallback: bool = False,
    ) -> None:
        self.headers = headers
        """``x-ratelimit-*`` headers for the response, from the most constraining scope."""
        self.request_id = request_id
        self.local_fallback = local_fallback
        """True when this replica admitted alone because the shared store was down."""
        self._store = store
        self._token_hits = tuple(token_hits)
        self._slot_keys = tuple(slot_keys)
        self._slot_ttl_seconds = slot_ttl_seconds
        self._health = health
        self._logger = logger
        self._settled = False
        self._released = False

    async def settle(self, actual_tokens: int) -> None:
        """Replace the reserved estimate by the real usage; only the first call counts."""
        if self._settled:
            return
        self._settled = True
        with _shielded():
            await self._each_quietly(
                self._store.counters.settle(hit, actual_tokens) for hit in self._token_hits
            )

    async def release(self) -> None:
        """Free the concurrency slots; only the first call counts."""
        if self._released:
            return
        self._released = True
        with _shielded():
            await self._each_quietly(
                self._store.slots.release(key, self.request_id) for key in self._slot_keys
            )

    async def keep_alive(self) -> None:
        """Push the slots' expiry ``slot_ttl_seconds`` further (call it during long streams)."""
        if self._released:
            return
        for key in self._slot_keys:
            try:
                held = await self._store.slots.extend(key, self.request_id, self._slot_ttl_seconds)
            except StoreUnavailableError as outage:
                self._health.record(outage)
                continue
            if not held:
                self._logger.warning("rate_limit_slot_expired", request_id=self.request_id)

    async def __aenter__(self) -> Admission:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.release()

    async def _each_quietly(self, operations: Iterable[Awaitable[None]]) -> None:
        outcomes = await asyncio.gather(*operations, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, StoreUnavailableError):
                self._health.record(outcome)
            elif isinstance(outcome, BaseException):
                raise outcome


def _shielded() -> anyio.CancelScope:
    """A scope that lets clean-up finish while the request is being cancelled."""
    scope = anyio.CancelScope(shield=True)
    scope.deadline = anyio.current_time() + CLEANUP_TIMEOUT_SECONDS
    return scope
