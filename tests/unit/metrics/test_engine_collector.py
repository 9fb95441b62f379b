"""Engine gauges on /metrics: read from the engine at scrape time, absent when it has none."""

from __future__ import annotations

import pytest

from engine.protocol import EngineStats
from gateway.metrics.registry import GatewayMetrics

RUNNING = "enclave_engine_running_requests"
WAITING = "enclave_engine_waiting_requests"
KV_CACHE = "enclave_engine_kv_cache_usage_ratio"


class SteppingEngine:
    """Stands in for an engine: ``stats`` returns whatever the test set last."""

    def __init__(self) -> None:
        self.current: EngineStats | None = None

    def stats(self) -> EngineStats | None:
        return self.current


def scrape(metrics: GatewayMetrics) -> str:
    body, _ = metrics.render()
    return body.decode()


def value(metrics: GatewayMetrics, name: str) -> float | None:
    return metrics.registry.get_sample_value(name)


def test_each_scrape_shows_the_engines_state_at_that_moment() -> None:
    metrics, engine = GatewayMetrics(), SteppingEngine()
    metrics.watch_engine(engine.stats)
    engine.current = EngineStats(running=5, waiting=2, kv_cache_usage=0.63)
    assert value(metrics, RUNNING) == 5
    assert value(metrics, WAITING) == 2
    assert value(metrics, KV_CACHE) == pytest.approx(0.63)
    engine.current = EngineStats(running=0, waiting=0, kv_cache_usage=0.0)
    text = scrape(metrics)
    assert f"{RUNNING} 0.0" in text
    assert f"{KV_CACHE} 0.0" in text


def test_values_out_of_range_are_clamped() -> None:
    metrics, engine = GatewayMetrics(), SteppingEngine()
    metrics.watch_engine(engine.stats)
    engine.current = EngineStats(running=-1, waiting=-3, kv_cache_usage=1.7)
    assert value(metrics, RUNNING) == 0
    assert value(metrics, WAITING) == 0
    assert value(metrics, KV_CACHE) == 1.0


@pytest.mark.parametrize("attached", [False, True], ids=["no engine yet", "engine without stats"])
def test_gauges_are_absent_rather_than_zero_without_numbers(attached: bool) -> None:
    metrics = GatewayMetrics()
    if attached:
        metrics.watch_engine(SteppingEngine().stats)
    text = scrape(metrics)
    for name in (RUNNING, WAITING, KV_CACHE):
        assert f"# TYPE {name} gauge" in text
        assert value(metrics, name) is None


def test_a_failing_engine_never_breaks_the_scrape() -> None:
    metrics = GatewayMetrics()
    metrics.count_rate_limit_refusal("tokens")

    def broken() -> EngineStats | None:
        raise RuntimeError("engine core gone")

    metrics.watch_engine(broken)
    text = scrape(metrics)
    assert 'enclave_rate_limit_refusals_total{kind="tokens"} 1.0' in text
    assert value(metrics, RUNNING) is None
