"""Per-GPU health gauges from NVML, sampled in the background.

``await GpuSampler.open(registry)`` returns None on a machine without ``nvidia-ml-py``,
without the NVIDIA driver or without GPUs: then nothing is registered and ``/metrics``
carries no GPU series at all (never zeros pretending to be a GPU). Otherwise it
registers a collector and ``start()`` samples every ``interval_seconds`` in the
sampler's own worker thread; a scrape only formats the last snapshot. The thread is
the sampler's own (not the loop's shared default executor) so that a driver call that
hangs, as they can when a GPU falls off the bus, stalls GPU metrics only (visible as a
stale ``enclave_gpu_last_sample_timestamp_seconds``) and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TypeVar

import structlog
from prometheus_client import CollectorRegistry

from gateway.metrics.gpu_collector import GpuCollector
from gateway.metrics.nvml import GpuDevice, GpuReading, Nvml, load_nvml
from gateway.metrics.xid import XidWatcher

log = structlog.get_logger("enclave.metrics.gpu")

T = TypeVar("T")

DEFAULT_INTERVAL_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class GpuIdentity:
    """What ``/readyz`` and start-up logs may say about a GPU."""

    index: int
    uuid: str
    name: str


class GpuSampler:
    """Samples every GPU NVML sees into a registry, on an interval, off the event loop."""

    def __init__(
        self,
        nvml: Nvml,
        devices: list[GpuDevice],
        xid: XidWatcher | None,
        executor: ThreadPoolExecutor,
        interval_seconds: float,
    ) -> None:
        self._nvml = nvml
        self._devices = devices
        self._xid = xid
        self._executor = executor
        self._interval = interval_seconds
        self._collector = GpuCollector()
        self._xid_counts = {uuid: 0 for uuid in xid.watched} if xid else {}
        self._last_xid: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        self._registry: CollectorRegistry | None = None

    @classmethod
    async def open(
        cls,
        registry: CollectorRegistry,
        *,
        interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
        nvml: Nvml | None = None,
    ) -> GpuSampler | None:
        """A sampler registered in ``registry`` with a first sample taken, or None when
        this machine has no usable NVIDIA GPU (nothing is registered then)."""
        if interval_seconds <= 0:
            raise ValueError("the GPU sample interval must be positive")
        library = nvml if nvml is not None else load_nvml()
        if library is None:
            log.info("GPU metrics off: nvidia-ml-py is not installed")
            return None
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="enclave-gpu-sampler")
        sampler = await _in_thread(executor, lambda: _connect(library, executor, interval_seconds))
        if sampler is None:
            executor.shutdown(wait=False)
            return None
        await sampler.sample()
        registry.register(sampler._collector)
        sampler._registry = registry
        log.info("GPU metrics on", gpus=[dataclasses.asdict(gpu) for gpu in sampler.gpus])
        return sampler

    @property
    def gpus(self) -> tuple[GpuIdentity, ...]:
        return tuple(GpuIdentity(d.index, d.uuid, d.name) for d in self._devices)

    def start(self) -> None:
        """Sample every ``interval_seconds`` until ``stop()``."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="enclave-gpu-sampler")

    async def stop(self) -> None:
        """Stop sampling, drop the GPU series and release NVML."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._registry is not None:
            self._registry.unregister(self._collector)
            self._registry = None
        await _in_thread(self._executor, self._close)
        self._executor.shutdown(wait=False)

    async def sample(self) -> None:
        """Take one sample now (in the worker thread) and publish it."""
        readings = await _in_thread(self._executor, self._read_all)
        self._collector.update(readings, time.time())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.sample()
            except Exception:  # a bug here must not end GPU metrics for good
                log.exception("GPU sample failed")

    def _read_all(self) -> list[GpuReading]:
        self._count_xid_events()
        return [self._with_xid(device.read()) for device in self._devices]

    def _count_xid_events(self) -> None:
        if self._xid is None:
            return
        for uuid, xid in self._xid.drain():
            if uuid in self._xid_counts:
                self._xid_counts[uuid] += 1
                self._last_xid[uuid] = xid
                log.warning("GPU reported a critical XID error", uuid=uuid, xid=xid)

    def _with_xid(self, reading: GpuReading) -> GpuReading:
        if reading.uuid not in self._xid_counts:
            return reading
        return replace(
            reading,
            xid_errors=self._xid_counts[reading.uuid],
            last_xid=self._last_xid.get(reading.uuid),
        )

    def _close(self) -> None:
        if self._xid is not None:
            self._xid.close()
        try:
            self._nvml.nvmlShutdown()
        except self._nvml.NVMLError as exc:
            log.warning("NVML shutdown failed", reason=str(exc))


def _connect(nvml: Nvml, executor: ThreadPoolExecutor, interval: float) -> GpuSampler | None:
    """Initialise NVML and find the GPUs; None (NVML shut down again) when there are none."""
    try:
        nvml.nvmlInit()
    except (nvml.NVMLError, OSError) as exc:
        log.info("GPU metrics off: NVML unavailable", reason=str(exc))
        return None
    try:
        devices = [GpuDevice(nvml, index) for index in range(nvml.nvmlDeviceGetCount())]
    except nvml.NVMLError as exc:
        log.warning("GPU metrics off: listing GPUs failed", reason=str(exc))
        devices = []
    if not devices:
        log.info("GPU metrics off: NVML sees no GPU")
        nvml.nvmlShutdown()
        return None
    return GpuSampler(nvml, devices, XidWatcher.open(nvml, devices), executor, interval)


async def _in_thread(executor: ThreadPoolExecutor, call: Callable[[], T]) -> T:
    return await asyncio.get_running_loop().run_in_executor(executor, call)
