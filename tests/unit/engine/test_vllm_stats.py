"""vLLM's scheduler reports become the engine-agnostic ``EngineStats`` the gateway exports."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from vllm.v1.metrics.stats import SchedulerStats

from engine.config import EngineConfig
from engine.protocol import EngineStats
from engine.vllm_engine import SchedulerSnapshot, VllmEngine, scheduler_stat_logger


class FrontendStub:
    """The two things ``VllmEngine`` asks ``AsyncLLM`` for outside generation."""

    def __init__(self, unfinished: int) -> None:
        self.unfinished = unfinished

    def get_tokenizer(self) -> Any:
        return None

    def get_num_unfinished_requests(self) -> int:
        return self.unfinished


def engine_with(snapshot: SchedulerSnapshot, unfinished: int) -> VllmEngine:
    config = EngineConfig(model=Path("unused"), served_model_name="m")
    return VllmEngine(config, FrontendStub(unfinished), "cpu", snapshot)


def test_the_stat_logger_keeps_vllms_latest_scheduler_report() -> None:
    snapshot = SchedulerSnapshot()
    stat_logger = scheduler_stat_logger(snapshot)(SimpleNamespace(), 0)
    stat_logger.record(
        SchedulerStats(num_running_reqs=3, num_waiting_reqs=1, kv_cache_usage=0.25), None
    )
    stat_logger.record(None, None)  # an iteration without scheduler stats changes nothing
    stat_logger.record(
        SchedulerStats(
            num_running_reqs=4, num_waiting_reqs=1, num_skipped_waiting_reqs=2, kv_cache_usage=0.5
        ),
        None,
    )
    assert engine_with(snapshot, unfinished=7).stats() == EngineStats(
        running=4, waiting=3, kv_cache_usage=0.5
    )


def test_engine_cores_are_summed_and_their_cache_usage_averaged() -> None:
    snapshot = SchedulerSnapshot()
    snapshot.record(0, SchedulerStats(num_running_reqs=2, num_waiting_reqs=0, kv_cache_usage=0.2))
    snapshot.record(1, SchedulerStats(num_running_reqs=3, num_waiting_reqs=4, kv_cache_usage=0.6))
    combined = snapshot.combined()
    assert combined is not None
    assert (combined.running, combined.waiting) == (5, 4)
    assert combined.kv_cache_usage == pytest.approx(0.4)


def test_no_report_yet_means_no_numbers() -> None:
    assert engine_with(SchedulerSnapshot(), unfinished=1).stats() is None


def test_an_idle_frontend_reports_an_idle_engine_whatever_the_last_report_said() -> None:
    snapshot = SchedulerSnapshot()
    snapshot.record(0, SchedulerStats(num_running_reqs=1, num_waiting_reqs=0, kv_cache_usage=0.1))
    assert engine_with(snapshot, unfinished=0).stats() == EngineStats(0, 0, 0.0)
