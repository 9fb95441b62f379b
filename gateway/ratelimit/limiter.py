"""The rate-limit gate: admit a request against every quota that applies to it, or refuse."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import anyio
import structlog

from gateway.errors import RateLimitedError
from gateway.ratelimit.admission import Admission
from gateway.ratelimit.headers import quota_headers
from gateway.ratelimit.outage import StoreHealth, StoreUnavailableError
from gateway.ratelimit.quota import QuotaScope
from gateway.ratelimit.refusals import slot_refusal, store_unavailable, window_refusal
from gateway.ratelimit.slots import slot_key
from gateway.ratelimit.store import QuotaStore, open_memory_store, open_quota_store
from gateway.ratelimit.windows import WindowHit, WindowLimit, window_limits

DEFAULT_SOCKET_TIMEOUT_SECONDS = 0.5


class RateLimiter:
    """Per-tenant and per-department quotas, in memory or shared by replicas through Redis.

    Build it once with ``connect`` (in the app's lifespan), hand it to the pipeline, and
    ``close`` it on shutdown. ``admit`` is all-or-nothing across scopes and limits.
    """

    def __init__(
        self,
        *,
        shared: QuotaStore,
        local: QuotaStore | None,
        slot_ttl_seconds: int,
        key_prefix: str,
        logger: structlog.typing.FilteringBoundLogger,
    ) -> None:
        if slot_ttl_seconds < 1:
            raise ValueError("slot_ttl_seconds must be at least 1")
        self._shared = shared
        self._local = local
        self._slot_ttl_seconds = slot_ttl_seconds
        self._key_prefix = key_prefix
        self._logger = logger
        self._health = StoreHealth(logger)

    @classmethod
    async def connect(
        cls,
        storage_url: str = "memory://",
        *,
        local_fallback: bool = False,
        slot_ttl_seconds: int = 120,
        key_prefix: str = "enclave",
        socket_timeout_seconds: float = DEFAULT_SOCKET_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> RateLimiter:
        """Open the store named by ``storage_url`` (``memory://`` or ``redis://host:port/db``).

        ``local_fallback`` lets each replica enforce the quotas on its own while a shared
        store is unreachable (so N replicas may admit up to N times a quota); without it,
        requests are refused with 503. ``clock`` gives wall-clock seconds (windows are
        aligned to it, so replicas need synchronised clocks, as NTP provides).
        An unreachable store does not stop start-up: it is logged, and ``healthy`` says so.
        """
        logger: structlog.typing.FilteringBoundLogger = structlog.get_logger("enclave.ratelimit")
        shared = open_quota_store(
            storage_url,
            key_prefix=key_prefix,
            clock=clock,
            socket_timeout_seconds=socket_timeout_seconds,
        )
        local = open_memory_store(clock) if local_fallback and shared.shared else None
        limiter = cls(
            shared=shared,
            local=local,
            slot_ttl_seconds=slot_ttl_seconds,
            key_prefix=key_prefix,
            logger=logger,
        )
        reachable = await shared.check()
        log = logger.info if reachable else logger.warning
        log(
            "rate_limiter_ready",
            store=shared.description,
            reachable=reachable,
            local_fallback=local is not None,
        )
        return limiter

    @property
    def store_failures(self) -> int:
        """How many store operations have failed since start (for metrics)."""
        return self._health.failures

    async def healthy(self) -> bool:
        """Whether the shared store answers right now."""
        return await self._shared.check()

    async def close(self) -> None:
        await self._shared.close()
        if self._local is not None:
            await self._local.close()

    async def admit(
        self, request_id: str, scopes: Sequence[QuotaScope], estimated_tokens: int
    ) -> Admission:
        """Count the request in every scope's limits and hold its concurrency slots.

        Raises ``RateLimitedError`` (429) if any limit refuses, having given back whatever
        was taken, and ``ServiceUnavailableError`` (503) if the store cannot be reached and
        no local fallback is allowed.
        """
        limits = window_limits(scopes, estimated_tokens)
        try:
            return await self._admit_shared_or_local(request_id, scopes, limits)
        except RateLimitedError as refusal:
            self._logger.info("rate_limited", request_id=request_id, reason=refusal.message)
            raise

    async def _admit_shared_or_local(
        self, request_id: str, scopes: Sequence[QuotaScope], limits: Sequence[WindowLimit]
    ) -> Admission:
        try:
            return await self._admit_in(self._shared, request_id, scopes, limits)
        except StoreUnavailableError as outage:
            self._health.record(outage)
            if self._local is None:
                self._logger.warning("rate_limit_failed_closed", request_id=request_id)
                raise store_unavailable() from None
        self._logger.warning("rate_limit_local_fallback", request_id=request_id)
        return await self._admit_in(self._local, request_id, scopes, limits)

    async def _admit_in(
        self,
        store: QuotaStore,
        request_id: str,
        scopes: Sequence[QuotaScope],
        limits: Sequence[WindowLimit],
    ) -> Admission:
        hits = await store.counters.take(limits)
        held_slots: list[str] = []
        try:
            if not all(hit.admitted for hit in hits):
                raise window_refusal(hits, store.counters.now())
            await self._hold_slots(store, request_id, scopes, hits, held_slots)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._undo_quietly(store, request_id, hits, held_slots)
            raise
        return Admission(
            request_id=request_id,
            store=store,
            token_hits=[hit for hit in hits if hit.limit.kind == "tokens"],
            slot_keys=held_slots,
            headers=quota_headers(hits, store.counters.now()),
            slot_ttl_seconds=self._slot_ttl_seconds,
            health=self._health,
            logger=self._logger,
            local_fallback=store is self._local,
        )

    async def _hold_slots(
        self,
        store: QuotaStore,
        request_id: str,
        scopes: Sequence[QuotaScope],
        hits: Sequence[WindowHit],
        held_slots: list[str],
    ) -> None:
        """Take one slot per scope with a concurrency limit, appending each to ``held_slots``."""
        for scope in scopes:
            if scope.quota.concurrent is None:
                continue
            key = slot_key(self._key_prefix, scope)
            limit = scope.quota.concurrent
            if not await store.slots.acquire(key, request_id, limit, self._slot_ttl_seconds):
                raise slot_refusal(scope, hits, store.counters.now())
            held_slots.append(key)

    async def _undo_quietly(
        self, store: QuotaStore, request_id: str, hits: Sequence[WindowHit], slots: Sequence[str]
    ) -> None:
        """Give back counts and slots of a request that was not admitted after all."""
        try:
            await store.counters.give_back(hits)
            for key in slots:
                await store.slots.release(key, request_id)
        except StoreUnavailableError as outage:
            # What could not be undone expires with its window or slot TTL.
            self._health.record(outage)
