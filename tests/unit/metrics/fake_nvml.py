"""A fake ``pynvml`` module: the API surface the GPU sampler calls, over fake GPUs.

It mirrors the real module where the sampler depends on it: errors are ``NVMLError``
subclasses carrying NVML's return code in ``.value`` (``NVMLError_NotSupported`` is 3),
power is in milliwatts, utilization in percent, and ``nvmlEventSetWait_v2`` raises
``NVMLError_Timeout`` when no event is queued.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from types import SimpleNamespace

NVML_ERROR_UNINITIALIZED = 1
NVML_ERROR_NOT_SUPPORTED = 3
NVML_ERROR_NO_PERMISSION = 4
NVML_ERROR_DRIVER_NOT_LOADED = 9
NVML_ERROR_TIMEOUT = 10
NVML_ERROR_LIBRARY_NOT_FOUND = 12
NVML_ERROR_FUNCTION_NOT_FOUND = 13
NVML_ERROR_GPU_IS_LOST = 15


class NVMLError(Exception):
    def __init__(self, value: int) -> None:
        super().__init__(f"NVML error {value}")
        self.value = value


class NVMLError_NotSupported(NVMLError):  # named as in pynvml
    def __init__(self) -> None:
        super().__init__(NVML_ERROR_NOT_SUPPORTED)


@dataclass
class FakeGpu:
    """One GPU's answers; a reading named in ``unsupported`` raises NotSupported and one
    in ``failing`` raises the given error code."""

    uuid: str
    name: str = "NVIDIA H100 80GB HBM3"
    utilization_percent: int = 42
    memory_used: int = 70 * 2**30
    memory_total: int = 80 * 2**30
    temperature: int = 61
    power_milliwatts: int = 312_500
    power_limit_milliwatts: int = 700_000
    clock_event_reasons: int = 0x44  # sw_power_cap | hw_thermal_slowdown
    ecc_corrected: int = 7
    ecc_uncorrected: int = 0
    xid_events: bool = True
    unsupported: set[str] = field(default_factory=set)
    failing: dict[str, int] = field(default_factory=dict)


class FakeNvml:
    """Stands in for the ``pynvml`` module."""

    NVMLError = NVMLError
    NVMLError_NotSupported = NVMLError_NotSupported
    NVML_ERROR_NOT_SUPPORTED = NVML_ERROR_NOT_SUPPORTED
    NVML_ERROR_NO_PERMISSION = NVML_ERROR_NO_PERMISSION
    NVML_ERROR_FUNCTION_NOT_FOUND = NVML_ERROR_FUNCTION_NOT_FOUND
    NVML_ERROR_TIMEOUT = NVML_ERROR_TIMEOUT
    NVML_TEMPERATURE_GPU = 0
    NVML_MEMORY_ERROR_TYPE_CORRECTED = 0
    NVML_MEMORY_ERROR_TYPE_UNCORRECTED = 1
    NVML_VOLATILE_ECC = 0
    nvmlEventTypeXidCriticalError = 0x8

    def __init__(self, gpus: list[FakeGpu], *, init_error: int | None = None) -> None:
        self.gpus = gpus
        self.init_error = init_error
        self.initialised = False
        self.calls: list[str] = []
        self.events: deque[SimpleNamespace] = deque()
        self.event_sets_freed = 0

    def raise_xid(self, index: int, xid: int) -> None:
        """The driver reports a critical XID on GPU ``index``."""
        gpu = self.gpus[index]
        if gpu.xid_events:
            self.events.append(SimpleNamespace(device=gpu, eventType=0x8, eventData=xid))

    def nvmlInit(self) -> None:
        if self.init_error is not None:
            raise NVMLError(self.init_error)
        self.initialised = True

    def nvmlShutdown(self) -> None:
        self._require_init()
        self.initialised = False

    def nvmlDeviceGetCount(self) -> int:
        self._require_init()
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeGpu:
        self._require_init()
        return self.gpus[index]

    def nvmlDeviceGetUUID(self, handle: FakeGpu) -> str:
        return handle.uuid

    def nvmlDeviceGetName(self, handle: FakeGpu) -> bytes:
        return handle.name.encode()  # older pynvml releases return bytes

    def nvmlDeviceGetUtilizationRates(self, handle: FakeGpu) -> SimpleNamespace:
        self._answer(handle, "utilization")
        return SimpleNamespace(gpu=handle.utilization_percent, memory=10)

    def nvmlDeviceGetMemoryInfo(self, handle: FakeGpu) -> SimpleNamespace:
        self._answer(handle, "memory")
        free = handle.memory_total - handle.memory_used
        return SimpleNamespace(used=handle.memory_used, total=handle.memory_total, free=free)

    def nvmlDeviceGetTemperature(self, handle: FakeGpu, sensor: int) -> int:
        assert sensor == self.NVML_TEMPERATURE_GPU
        self._answer(handle, "temperature")
        return handle.temperature

    def nvmlDeviceGetPowerUsage(self, handle: FakeGpu) -> int:
        self._answer(handle, "power")
        return handle.power_milliwatts

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: FakeGpu) -> int:
        self._answer(handle, "power_limit")
        return handle.power_limit_milliwatts

    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: FakeGpu) -> int:
        self._answer(handle, "clock_event_reasons")
        return handle.clock_event_reasons

    def nvmlDeviceGetTotalEccErrors(
        self, handle: FakeGpu, error_type: int, counter_type: int
    ) -> int:
        assert counter_type == self.NVML_VOLATILE_ECC
        self._answer(handle, "ecc")
        if error_type == self.NVML_MEMORY_ERROR_TYPE_CORRECTED:
            return handle.ecc_corrected
        return handle.ecc_uncorrected

    def nvmlEventSetCreate(self) -> object:
        return object()

    def nvmlDeviceRegisterEvents(self, handle: FakeGpu, event_types: int, _: object) -> None:
        assert event_types == self.nvmlEventTypeXidCriticalError
        if not handle.xid_events:
            raise NVMLError_NotSupported()

    def nvmlEventSetWait_v2(self, _: object, timeout_ms: int) -> SimpleNamespace:
        assert timeout_ms == 0, "the sampler must never wait for events"
        if not self.events:
            raise NVMLError(NVML_ERROR_TIMEOUT)
        return self.events.popleft()

    def nvmlEventSetFree(self, _: object) -> None:
        self.event_sets_freed += 1

    def _require_init(self) -> None:
        if not self.initialised:
            raise NVMLError(NVML_ERROR_UNINITIALIZED)

    def _answer(self, handle: FakeGpu, reading: str) -> None:
        self._require_init()
        self.calls.append(f"{handle.uuid}:{reading}")
        if reading in handle.unsupported:
            raise NVMLError_NotSupported()
        if reading in handle.failing:
            raise NVMLError(handle.failing[reading])
