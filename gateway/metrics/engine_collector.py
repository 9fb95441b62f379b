"""The engine's scheduler state as Prometheus gauges, read from the engine at scrape time.

The collector asks a snapshot function (``Engine.stats``) for the scheduler's latest
numbers; it never imports or calls the inference library itself. Until an engine is
attached, or when the engine has no scheduler to report on (the instant benchmark
engine), the gauges are absent rather than exported as zeros. A snapshot function that
fails leaves them absent too: a scrape never breaks because of the engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import structlog
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from engine.protocol import EngineStats

log = structlog.get_logger("enclave.metrics")

RUNNING = "enclave_engine_running_requests"
WAITING = "enclave_engine_waiting_requests"
KV_CACHE_USAGE = "enclave_engine_kv_cache_usage_ratio"

StatsSource = Callable[[], EngineStats | None]


class EngineStateCollector(Collector):
    """Exposes ``running``, ``waiting`` and KV-cache usage of the attached engine."""

    def __init__(self) -> None:
        self._source: StatsSource | None = None

    def attach(self, source: StatsSource) -> None:
        """Read the engine's state from ``source`` on every scrape from now on."""
        self._source = source

    def collect(self) -> Iterable[Metric]:
        return _families(self._snapshot())

    def describe(self) -> Iterable[Metric]:
        """The metric names, so the registry refuses duplicates at registration."""
        return _families(None)

    def _snapshot(self) -> EngineStats | None:
        source = self._source
        if source is None:
            return None
        try:
            return source()
        except Exception as exc:  # a scrape must never fail because of the engine
            log.warning("engine stats unavailable", error=type(exc).__name__)
            return None


def _families(stats: EngineStats | None) -> list[Metric]:
    running = GaugeMetricFamily(RUNNING, "Requests the engine is generating for now.")
    waiting = GaugeMetricFamily(
        WAITING, "Requests queued in the engine, waiting for room in the batch or KV cache."
    )
    usage = GaugeMetricFamily(KV_CACHE_USAGE, "Share of the engine's KV cache in use (0 to 1).")
    if stats is not None:
        running.add_metric([], max(0, stats.running))
        waiting.add_metric([], max(0, stats.waiting))
        usage.add_metric([], min(1.0, max(0.0, stats.kv_cache_usage)))
    return [running, waiting, usage]
