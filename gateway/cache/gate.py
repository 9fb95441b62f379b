"""``ResponseCache``: the pipeline's cache step. It never fails a request: a store that
cannot answer is a miss (logged and counted), and for a few seconds afterwards the store
is not asked at all, so an outage adds no latency to every request."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

import msgspec
import structlog
from prometheus_client import CollectorRegistry

from gateway.cache.entry import CachedResponse, decode_entry, encode_entry
from gateway.cache.key import CacheRequest, cache_key, is_deterministic
from gateway.cache.metrics import CacheMetrics
from gateway.cache.recorder import CacheRecorder
from gateway.cache.store import CacheStore, CacheStoreError, open_cache_store
from gateway.policy.schema import CachePolicy
from gateway.redaction.screened import ScreenedOutput
from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway.generation_plan import GenerationPlan

CACHE_HEADER: Final = "x-enclave-cache"
MAX_ENTRY_BYTES: Final = 512 * 1024
"""Larger answers are not stored (a few long ones must not crowd out many short ones)."""
OUTAGE_PAUSE_SECONDS: Final = 5.0
"""After a store failure, requests skip the store this long instead of each waiting on it."""

CacheOutcome = Literal["hit", "miss", "bypass"]

log = structlog.get_logger("enclave.cache")


@dataclass(frozen=True, slots=True)
class CacheLookup:
    """What the cache said about one request."""

    policy: CachePolicy = field(default_factory=CachePolicy)
    tenant: str = ""
    key: str | None = None
    """None when the answer is not cached: the policy is off or the request not deterministic."""
    hit: CachedResponse | None = None

    @property
    def outcome(self) -> CacheOutcome | None:
        """``hit``, ``miss``, ``bypass`` (on, but not deterministic); None when off."""
        if not self.policy.enabled:
            return None
        if self.key is None:
            return "bypass"
        return "miss" if self.hit is None else "hit"

    @property
    def audit_marker(self) -> str | None:
        """What the audit record notes: ``hit`` or ``miss`` for cacheable requests."""
        outcome = self.outcome
        return outcome if outcome in ("hit", "miss") else None

    @property
    def headers(self) -> dict[str, str]:
        outcome = self.outcome
        return {} if outcome is None else {CACHE_HEADER: outcome}


NOT_CACHED: Final = CacheLookup()


class ResponseCache:
    def __init__(
        self,
        store: CacheStore,
        registry: CollectorRegistry,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._metrics = CacheMetrics(registry)
        self._clock = clock
        self._paused_until = 0.0

    async def look_up(self, plan: GenerationPlan) -> CacheLookup:
        """The stored answer for ``plan`` if its policy caches it and one is there."""
        principal, policy = plan.principal, plan.decision.cache
        if not policy.enabled:
            return NOT_CACHED
        request = CacheRequest(
            principal.tenant,
            plan.route,
            plan.model,
            plan.prompt_token_ids,
            plan.sampling,
            plan.decision.pii,
        )
        return await self.look_up_request(request, policy, principal.department)

    async def look_up_request(
        self, request: CacheRequest, policy: CachePolicy, department: str
    ) -> CacheLookup:
        """The stored answer for ``request`` if ``policy`` caches it and one is there."""
        if not policy.enabled:
            return NOT_CACHED
        if not is_deterministic(request.sampling):
            return CacheLookup(policy, request.tenant)
        key = cache_key(request)
        result, hit = await self._read(request.tenant, key, request.sampling.n)
        self._metrics.count_lookup(result, department)
        return CacheLookup(policy, request.tenant, key, hit)

    def recorder(self, lookup: CacheLookup, n: int) -> CacheRecorder:
        """Watches the engine's steps when the answer is to be stored (a miss)."""
        return CacheRecorder(n, active=lookup.key is not None and lookup.hit is None)

    async def store(
        self, lookup: CacheLookup, recorder: CacheRecorder, outputs: Sequence[ScreenedOutput]
    ) -> None:
        """Keep a finished miss's answer (redacted, pseudonyms not restored)."""
        if not recorder.active or lookup.key is None:
            return
        entry = recorder.entry(outputs)
        value = None if entry is None else encode_entry(entry)
        if value is None or len(value) > MAX_ENTRY_BYTES:
            self._metrics.count_write("skipped")
            return
        if self._paused():
            self._metrics.count_write("store_error")
            return
        policy = lookup.policy
        try:
            await self._store.put(
                lookup.tenant,
                lookup.key,
                value,
                ttl_seconds=policy.ttl_seconds,
                max_entries=policy.max_entries,
            )
        except CacheStoreError as exc:
            self._pause(exc, "write")
            self._metrics.count_write("store_error")
            return
        self._metrics.count_write("stored")

    async def close(self) -> None:
        await self._store.close()

    async def _read(self, tenant: str, key: str, n: int) -> tuple[str, CachedResponse | None]:
        """``("hit", entry)``, ``("miss", None)`` or ``("store_error", None)``."""
        if self._paused():
            return "store_error", None
        try:
            data = await self._store.get(tenant, key)
        except CacheStoreError as exc:
            self._pause(exc, "read")
            return "store_error", None
        if data is None:
            return "miss", None
        try:
            entry = decode_entry(data)
        except msgspec.DecodeError:
            log.warning("cache entry unreadable; treated as a miss")
            return "miss", None
        return ("hit", entry) if len(entry.choices) == n else ("miss", None)

    def _paused(self) -> bool:
        return self._clock() < self._paused_until

    def _pause(self, exc: CacheStoreError, operation: str) -> None:
        self._paused_until = self._clock() + OUTAGE_PAUSE_SECONDS
        log.warning(
            "cache store unavailable; answering from the engine",
            operation=operation,
            store=self._store.description,
            error=str(exc),
            pause_seconds=OUTAGE_PAUSE_SECONDS,
        )


def open_response_cache(settings: Settings, registry: CollectorRegistry) -> ResponseCache:
    """The cache on the store ``ENCLAVE_CACHE_STORAGE`` names (nothing is contacted yet)."""
    store = open_cache_store(
        settings.cache_storage,
        key_prefix=settings.cache_key_prefix,
        max_entries=settings.cache_max_entries,
        timeout_seconds=settings.cache_store_timeout_seconds,
    )
    return ResponseCache(store, registry)
