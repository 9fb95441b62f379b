"""The cache's Prometheus counters, registered in the gateway's own registry."""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter

from gateway.metrics.labels import TenantLabels, choice_label

LOOKUP_RESULTS: Final = frozenset({"hit", "miss", "store_error"})
WRITE_RESULTS: Final = frozenset({"stored", "skipped", "store_error"})


class CacheMetrics:
    def __init__(self, registry: CollectorRegistry, *, max_departments: int = 50) -> None:
        self._departments = TenantLabels(max_departments)
        self._lookups = Counter(
            "enclave_cache_requests",
            "Cacheable requests by what the response cache did: hit, miss, or store_error "
            "(the store could not answer; the request went to the engine).",
            ["result", "department"],
            registry=registry,
        )
        self._writes = Counter(
            "enclave_cache_writes",
            "Answers offered to the response cache: stored, skipped (unfinished or too "
            "large) or store_error.",
            ["result"],
            registry=registry,
        )

    def count_lookup(self, result: str, department: str) -> None:
        self._lookups.labels(
            choice_label(result, LOOKUP_RESULTS), self._departments(department)
        ).inc()

    def count_write(self, result: str) -> None:
        self._writes.labels(choice_label(result, WRITE_RESULTS)).inc()
