"""Turns the latest GPU readings into Prometheus metric families at scrape time.

The collector never calls NVML: it only formats the last snapshot the sampler's worker
thread stored, so a scrape costs microseconds and cannot block on the driver. Every
series is labelled by ``gpu`` (NVML index) and ``uuid`` alone (plus ``type`` for ECC
and ``reason`` for clock-event reasons, both from fixed sets). A reading the GPU does
not report is left out, never exported as a zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.metrics.nvml import GpuReading

GPU_LABELS = ("gpu", "uuid")

CLOCK_EVENT_REASONS = (
    ("gpu_idle", 0x001),
    ("applications_clocks_setting", 0x002),
    ("sw_power_cap", 0x004),
    ("hw_slowdown", 0x008),
    ("sync_boost", 0x010),
    ("sw_thermal_slowdown", 0x020),
    ("hw_thermal_slowdown", 0x040),
    ("hw_power_brake_slowdown", 0x080),
    ("display_clock_setting", 0x100),
)
"""NVML's clock event ("throttle") reason bits, by the name used as ``reason`` label."""


@dataclass(frozen=True, slots=True)
class GaugeSpec:
    name: str
    documentation: str
    read: Callable[[GpuReading], float | None]


GAUGES = (
    GaugeSpec("enclave_gpu_up", "1 when the GPU answered the last sample, 0 when it failed.",
              lambda r: 1 if r.up else 0),
    GaugeSpec("enclave_gpu_utilization_ratio", "Share of time a kernel was running (0 to 1).",
              lambda r: r.utilization_ratio),
    GaugeSpec("enclave_gpu_memory_used_bytes", "GPU memory in use.",
              lambda r: r.memory_used_bytes),
    GaugeSpec("enclave_gpu_memory_total_bytes", "GPU memory installed.",
              lambda r: r.memory_total_bytes),
    GaugeSpec("enclave_gpu_temperature_celsius", "GPU core temperature.",
              lambda r: r.temperature_celsius),
    GaugeSpec("enclave_gpu_power_watts", "Power draw.", lambda r: r.power_watts),
    GaugeSpec("enclave_gpu_power_limit_watts", "Enforced power limit.",
              lambda r: r.power_limit_watts),
    GaugeSpec("enclave_gpu_throttle_reasons",
              "Bitmask of NVML clock event (throttle) reasons now active.",
              lambda r: r.clock_event_reasons),
    GaugeSpec("enclave_gpu_last_xid", "Code of the last critical XID error seen.",
              lambda r: r.last_xid),
)  # fmt: skip
THROTTLE_ACTIVE = "enclave_gpu_throttle_active"
ECC_ERRORS = "enclave_gpu_ecc_errors"
XID_ERRORS = "enclave_gpu_xid_errors"
LAST_SAMPLE = "enclave_gpu_last_sample_timestamp_seconds"

GPU_SERIES_NAMES = frozenset(
    {spec.name for spec in GAUGES}
    | {THROTTLE_ACTIVE, f"{ECC_ERRORS}_total", f"{XID_ERRORS}_total", LAST_SAMPLE}
)
"""Every series name the GPU collector can expose (dashboards and alerts use these)."""


class GpuCollector(Collector):
    """Exposes the latest snapshot; the sampler replaces it with ``update``."""

    def __init__(self) -> None:
        self._readings: tuple[GpuReading, ...] = ()
        self._sampled_at: float | None = None

    def update(self, readings: Sequence[GpuReading], sampled_at: float) -> None:
        """Store a new snapshot (one assignment: a scrape sees the old or the new one)."""
        self._readings, self._sampled_at = tuple(readings), sampled_at

    def collect(self) -> Iterable[Metric]:
        readings, sampled_at = self._readings, self._sampled_at
        if sampled_at is None:
            return []
        return _families(readings, sampled_at)

    def describe(self) -> Iterable[Metric]:
        """The metric names, so the registry refuses duplicates at registration."""
        return _families((), None)


def _families(readings: Sequence[GpuReading], sampled_at: float | None) -> list[Metric]:
    last_sample = GaugeMetricFamily(LAST_SAMPLE, "Unix time of the last GPU sample.", sampled_at)
    return [*_gauges(readings), _throttle_active(readings), *_counters(readings), last_sample]


def _labels(reading: GpuReading) -> list[str]:
    return [str(reading.index), reading.uuid]


def _gauges(readings: Sequence[GpuReading]) -> list[Metric]:
    families: list[Metric] = []
    for spec in GAUGES:
        family = GaugeMetricFamily(spec.name, spec.documentation, labels=GPU_LABELS)
        for reading in readings:
            value = spec.read(reading)
            if value is not None:
                family.add_metric(_labels(reading), value)
        families.append(family)
    return families


def _throttle_active(readings: Sequence[GpuReading]) -> Metric:
    family = GaugeMetricFamily(
        THROTTLE_ACTIVE,
        "1 while the clock event (throttle) reason is active, else 0.",
        labels=[*GPU_LABELS, "reason"],
    )
    for reading in readings:
        if reading.clock_event_reasons is None:
            continue
        for reason, bit in CLOCK_EVENT_REASONS:
            active = 1 if reading.clock_event_reasons & bit else 0
            family.add_metric([*_labels(reading), reason], active)
    return family


def _counters(readings: Sequence[GpuReading]) -> list[Metric]:
    ecc = CounterMetricFamily(
        ECC_ERRORS,
        "ECC memory errors since the driver loaded (volatile counters), by type.",
        labels=[*GPU_LABELS, "type"],
    )
    xid = CounterMetricFamily(
        XID_ERRORS, "Critical XID errors seen since the gateway started.", labels=GPU_LABELS
    )
    for reading in readings:
        if reading.ecc_corrected is not None:
            ecc.add_metric([*_labels(reading), "corrected"], reading.ecc_corrected)
        if reading.ecc_uncorrected is not None:
            ecc.add_metric([*_labels(reading), "uncorrected"], reading.ecc_uncorrected)
        if reading.xid_errors is not None:
            xid.add_metric(_labels(reading), reading.xid_errors)
    return [ecc, xid]
