"""GPU health gauges: what /metrics shows for each GPU, and what it never pretends."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from gateway.metrics.gpu import GpuSampler
from gateway.metrics.gpu_collector import GPU_SERIES_NAMES
from gateway.metrics.nvml import GpuReading
from tests.unit.metrics.fake_nvml import (
    NVML_ERROR_DRIVER_NOT_LOADED,
    NVML_ERROR_GPU_IS_LOST,
    NVML_ERROR_LIBRARY_NOT_FOUND,
    NVML_ERROR_NO_PERMISSION,
    FakeGpu,
    FakeNvml,
)

pytestmark = pytest.mark.anyio

UUID_0 = "GPU-2894449b-34f1-22df-5b29-a811f959e894"
UUID_1 = "GPU-7c1a2b3d-0000-1111-2222-333344445555"


def value(registry: CollectorRegistry, name: str, gpu: int, **labels: str) -> float | None:
    uuid = (UUID_0, UUID_1)[gpu]
    return registry.get_sample_value(name, {"gpu": str(gpu), "uuid": uuid, **labels})


def gpu_series(registry: CollectorRegistry) -> list[str]:
    return [
        s.name for m in registry.collect() for s in m.samples if s.name.startswith("enclave_gpu")
    ]


async def opened(registry: CollectorRegistry, nvml: FakeNvml, **kwargs: float) -> GpuSampler:
    sampler = await GpuSampler.open(registry, nvml=nvml, **kwargs)
    assert sampler is not None
    return sampler


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry(auto_describe=True)


@pytest.fixture
def nvml() -> FakeNvml:
    return FakeNvml([FakeGpu(UUID_0), FakeGpu(UUID_1, temperature=48, clock_event_reasons=0x1)])


@pytest.fixture
async def sampler(registry: CollectorRegistry, nvml: FakeNvml) -> AsyncIterator[GpuSampler]:
    sampler = await opened(registry, nvml)
    yield sampler
    await sampler.stop()


async def test_each_gpu_reports_its_health_in_units_prometheus_expects(
    registry: CollectorRegistry, sampler: GpuSampler
) -> None:
    assert value(registry, "enclave_gpu_up", 0) == 1
    assert value(registry, "enclave_gpu_utilization_ratio", 0) == pytest.approx(0.42)
    assert value(registry, "enclave_gpu_memory_used_bytes", 0) == 70 * 2**30
    assert value(registry, "enclave_gpu_memory_total_bytes", 0) == 80 * 2**30
    assert value(registry, "enclave_gpu_temperature_celsius", 0) == 61
    assert value(registry, "enclave_gpu_temperature_celsius", 1) == 48
    assert value(registry, "enclave_gpu_power_watts", 0) == pytest.approx(312.5)
    assert value(registry, "enclave_gpu_power_limit_watts", 0) == 700
    assert value(registry, "enclave_gpu_ecc_errors_total", 0, type="corrected") == 7
    assert value(registry, "enclave_gpu_ecc_errors_total", 0, type="uncorrected") == 0
    assert value(registry, "enclave_gpu_xid_errors_total", 0) == 0
    assert [gpu.uuid for gpu in sampler.gpus] == [UUID_0, UUID_1]


async def test_throttle_reasons_come_as_a_bitmask_and_one_series_per_reason(
    registry: CollectorRegistry, sampler: GpuSampler
) -> None:
    assert value(registry, "enclave_gpu_throttle_reasons", 0) == 0x44
    active = "enclave_gpu_throttle_active"
    assert value(registry, active, 0, reason="hw_thermal_slowdown") == 1
    assert value(registry, active, 0, reason="sw_power_cap") == 1
    assert value(registry, active, 0, reason="gpu_idle") == 0
    assert value(registry, active, 1, reason="gpu_idle") == 1


async def test_gpu_series_are_labelled_by_index_and_uuid_only(
    registry: CollectorRegistry, sampler: GpuSampler
) -> None:
    extra_labels = {
        "enclave_gpu_ecc_errors_total": {"type"},
        "enclave_gpu_throttle_active": {"reason"},
    }
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == "enclave_gpu_last_sample_timestamp_seconds":
                assert sample.labels == {}
                continue
            expected = {"gpu", "uuid"} | extra_labels.get(sample.name, set())
            assert set(sample.labels) == expected, sample
            assert sample.name in GPU_SERIES_NAMES


async def test_readings_a_gpu_does_not_support_are_absent_never_zero(
    registry: CollectorRegistry,
) -> None:
    consumer_card = FakeGpu(UUID_0, unsupported={"ecc", "power_limit"}, xid_events=False)
    nvml = FakeNvml([consumer_card])
    sampler = await opened(registry, nvml)
    try:
        assert value(registry, "enclave_gpu_up", 0) == 1
        assert value(registry, "enclave_gpu_temperature_celsius", 0) == 61
        assert value(registry, "enclave_gpu_ecc_errors_total", 0, type="corrected") is None
        assert value(registry, "enclave_gpu_ecc_errors_total", 0, type="uncorrected") is None
        assert value(registry, "enclave_gpu_power_limit_watts", 0) is None
        assert value(registry, "enclave_gpu_xid_errors_total", 0) is None
        assert value(registry, "enclave_gpu_last_xid", 0) is None
        asked = nvml.calls.count(f"{UUID_0}:ecc")
        await sampler.sample()
        assert nvml.calls.count(f"{UUID_0}:ecc") == asked, "NotSupported is not asked again"
    finally:
        await sampler.stop()


async def test_no_permission_counts_as_not_supported(registry: CollectorRegistry) -> None:
    nvml = FakeNvml([FakeGpu(UUID_0, failing={"power": NVML_ERROR_NO_PERMISSION})])
    sampler = await opened(registry, nvml)
    try:
        assert value(registry, "enclave_gpu_power_watts", 0) is None
        assert value(registry, "enclave_gpu_up", 0) == 1
    finally:
        await sampler.stop()


async def test_a_gpu_that_stops_answering_is_down_and_recovers(
    registry: CollectorRegistry, nvml: FakeNvml, sampler: GpuSampler
) -> None:
    nvml.gpus[1].failing = {"temperature": NVML_ERROR_GPU_IS_LOST}
    await sampler.sample()
    assert value(registry, "enclave_gpu_up", 1) == 0
    assert value(registry, "enclave_gpu_temperature_celsius", 1) is None
    assert value(registry, "enclave_gpu_up", 0) == 1

    nvml.gpus[1].failing = {}
    await sampler.sample()
    assert value(registry, "enclave_gpu_up", 1) == 1
    assert value(registry, "enclave_gpu_temperature_celsius", 1) == 48


async def test_critical_xid_events_are_counted_per_gpu(
    registry: CollectorRegistry, nvml: FakeNvml, sampler: GpuSampler
) -> None:
    nvml.raise_xid(1, 79)
    nvml.raise_xid(1, 48)
    await sampler.sample()
    assert value(registry, "enclave_gpu_xid_errors_total", 1) == 2
    assert value(registry, "enclave_gpu_last_xid", 1) == 48
    assert value(registry, "enclave_gpu_xid_errors_total", 0) == 0
    assert value(registry, "enclave_gpu_last_xid", 0) is None


async def test_without_the_nvml_package_nothing_is_registered(
    registry: CollectorRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import pynvml raises ImportError
    assert await GpuSampler.open(registry) is None
    assert gpu_series(registry) == []


@pytest.mark.parametrize("code", [NVML_ERROR_LIBRARY_NOT_FOUND, NVML_ERROR_DRIVER_NOT_LOADED])
async def test_without_the_driver_nothing_is_registered(
    registry: CollectorRegistry, code: int
) -> None:
    assert (
        await GpuSampler.open(registry, nvml=FakeNvml([FakeGpu(UUID_0)], init_error=code)) is None
    )
    assert gpu_series(registry) == []


async def test_without_gpus_nothing_is_registered_and_nvml_is_released(
    registry: CollectorRegistry,
) -> None:
    nvml = FakeNvml([])
    assert await GpuSampler.open(registry, nvml=nvml) is None
    assert gpu_series(registry) == []
    assert not nvml.initialised


@pytest.mark.skipif(Path("/dev/nvidiactl").exists(), reason="this machine has an NVIDIA driver")
async def test_real_pynvml_on_a_machine_without_a_gpu_registers_nothing(
    registry: CollectorRegistry,
) -> None:
    assert await GpuSampler.open(registry) is None
    assert gpu_series(registry) == []


async def test_background_sampling_follows_the_gpu_and_stop_removes_the_series(
    registry: CollectorRegistry, nvml: FakeNvml
) -> None:
    sampler = await opened(registry, nvml, interval_seconds=0.01)
    sampler.start()
    nvml.gpus[0].temperature = 88
    for _ in range(200):
        if value(registry, "enclave_gpu_temperature_celsius", 0) == 88:
            break
        await asyncio.sleep(0.01)
    assert value(registry, "enclave_gpu_temperature_celsius", 0) == 88

    await sampler.stop()
    assert gpu_series(registry) == []
    assert not nvml.initialised
    assert nvml.event_sets_freed == 1


async def test_nvml_is_called_from_the_samplers_thread_never_the_event_loop(
    registry: CollectorRegistry, nvml: FakeNvml
) -> None:
    threads: set[str] = set()
    original = nvml.nvmlDeviceGetTemperature

    def recording(handle: FakeGpu, sensor: int) -> int:
        threads.add(threading.current_thread().name)
        return original(handle, sensor)

    nvml.nvmlDeviceGetTemperature = recording  # type: ignore[method-assign]
    sampler = await opened(registry, nvml)
    await sampler.sample()
    await sampler.stop()
    assert threads
    assert all(name.startswith("enclave-gpu-sampler") for name in threads)


async def test_a_failed_sample_does_not_end_sampling(
    registry: CollectorRegistry, nvml: FakeNvml
) -> None:
    sampler = await opened(registry, nvml, interval_seconds=0.01)
    read_all = sampler._read_all
    failures_left = [2]

    def flaky_read_all() -> list[GpuReading]:
        if failures_left[0]:
            failures_left[0] -= 1
            raise RuntimeError("bug in a sample")
        return read_all()

    sampler._read_all = flaky_read_all  # type: ignore[method-assign]
    nvml.gpus[0].temperature = 77
    sampler.start()
    for _ in range(200):
        if value(registry, "enclave_gpu_temperature_celsius", 0) == 77:
            break
        await asyncio.sleep(0.01)
    recovered = value(registry, "enclave_gpu_temperature_celsius", 0)
    await sampler.stop()
    assert failures_left == [0]
    assert recovered == 77


async def test_the_sample_interval_must_be_positive(registry: CollectorRegistry) -> None:
    with pytest.raises(ValueError, match="positive"):
        await GpuSampler.open(registry, nvml=FakeNvml([FakeGpu(UUID_0)]), interval_seconds=0)
