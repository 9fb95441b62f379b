"""The slice of NVML (``pynvml``, from ``nvidia-ml-py``) the GPU sampler uses, and how
one GPU is read through it.

``pynvml`` is imported lazily (``load_nvml``) and only ever reached through the
``Nvml`` protocol, so tests inject a fake module and machines without the package
never import it. Every call here blocks (it talks to the driver): the sampler runs
them in a worker thread, never on the event loop.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from typing import Protocol, TypeVar, cast

T = TypeVar("T")


class UtilizationRates(Protocol):
    gpu: int
    """Percent of the last sample period during which a kernel ran."""


class MemoryInfo(Protocol):
    used: int
    total: int


class EventData(Protocol):
    device: object
    eventType: int  # NVML's field name
    eventData: int  # the XID, for XID events


class Nvml(Protocol):
    """What the sampler calls on ``pynvml`` (a module, or a test's fake of it)."""

    NVMLError: type[Exception]
    NVML_ERROR_NOT_SUPPORTED: int
    NVML_ERROR_NO_PERMISSION: int
    NVML_ERROR_FUNCTION_NOT_FOUND: int
    NVML_ERROR_TIMEOUT: int
    NVML_TEMPERATURE_GPU: int
    NVML_MEMORY_ERROR_TYPE_CORRECTED: int
    NVML_MEMORY_ERROR_TYPE_UNCORRECTED: int
    NVML_VOLATILE_ECC: int
    nvmlEventTypeXidCriticalError: int  # NVML's constant name

    def nvmlInit(self) -> None: ...
    def nvmlShutdown(self) -> None: ...
    def nvmlDeviceGetCount(self) -> int: ...
    def nvmlDeviceGetHandleByIndex(self, index: int) -> object: ...
    def nvmlDeviceGetUUID(self, handle: object) -> str | bytes: ...
    def nvmlDeviceGetName(self, handle: object) -> str | bytes: ...
    def nvmlDeviceGetUtilizationRates(self, handle: object) -> UtilizationRates: ...
    def nvmlDeviceGetMemoryInfo(self, handle: object) -> MemoryInfo: ...
    def nvmlDeviceGetTemperature(self, handle: object, sensor: int) -> int: ...
    def nvmlDeviceGetPowerUsage(self, handle: object) -> int: ...
    def nvmlDeviceGetEnforcedPowerLimit(self, handle: object) -> int: ...
    def nvmlDeviceGetCurrentClocksEventReasons(self, handle: object) -> int: ...
    def nvmlDeviceGetTotalEccErrors(
        self, handle: object, error_type: int, counter_type: int
    ) -> int: ...
    def nvmlEventSetCreate(self) -> object: ...
    def nvmlDeviceRegisterEvents(
        self, handle: object, event_types: int, event_set: object
    ) -> None: ...
    def nvmlEventSetWait_v2(self, event_set: object, timeout_ms: int) -> EventData: ...
    def nvmlEventSetFree(self, event_set: object) -> None: ...


def load_nvml() -> Nvml | None:
    """The ``pynvml`` module, or None when ``nvidia-ml-py`` is not installed."""
    try:
        return cast("Nvml", importlib.import_module("pynvml"))
    except ImportError:
        return None


def error_code(nvml: Nvml, exc: Exception) -> int | None:
    """The NVML return code an ``NVMLError`` carries (None for other exceptions)."""
    if not isinstance(exc, nvml.NVMLError):
        return None
    code = getattr(exc, "value", None)
    return code if isinstance(code, int) else None


def means_unsupported(nvml: Nvml, exc: Exception) -> bool:
    """True for errors that will not go away by asking again: the GPU or driver does
    not offer the reading, or this process may not read it."""
    return error_code(nvml, exc) in {
        nvml.NVML_ERROR_NOT_SUPPORTED,
        nvml.NVML_ERROR_NO_PERMISSION,
        nvml.NVML_ERROR_FUNCTION_NOT_FOUND,
    }


def as_text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


@dataclasses.dataclass(frozen=True, slots=True)
class GpuReading:
    """One GPU at one moment. None means "not reported": the GPU or driver does not
    offer it, or the read failed this time. It is never exported as a zero."""

    index: int
    uuid: str
    up: bool
    """False when a reading failed for a reason other than "not supported" (a GPU that
    fell off the bus answers every call with an error)."""
    utilization_ratio: float | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    temperature_celsius: int | None = None
    power_watts: float | None = None
    power_limit_watts: float | None = None
    clock_event_reasons: int | None = None
    ecc_corrected: int | None = None
    ecc_uncorrected: int | None = None
    xid_errors: int | None = None
    """Critical XID events seen since the sampler opened (None: XID events not offered)."""
    last_xid: int | None = None


class GpuDevice:
    """One GPU: its handle, its identity and the readings it has said it does not offer."""

    def __init__(self, nvml: Nvml, index: int) -> None:
        self._nvml = nvml
        self.index = index
        self.handle = nvml.nvmlDeviceGetHandleByIndex(index)
        self.uuid = as_text(nvml.nvmlDeviceGetUUID(self.handle))
        self.name = as_text(nvml.nvmlDeviceGetName(self.handle))
        self.unsupported: set[str] = set()
        self._failed = False

    def read(self) -> GpuReading:
        """Every reading this GPU offers; blocks on the driver."""
        self._failed = False
        nvml = self._nvml
        utilization = self._query("utilization", nvml.nvmlDeviceGetUtilizationRates)
        memory = self._query("memory", nvml.nvmlDeviceGetMemoryInfo)
        temperature = self._query("temperature", self._temperature)
        power_mw = self._query("power", nvml.nvmlDeviceGetPowerUsage)
        limit_mw = self._query("power_limit", nvml.nvmlDeviceGetEnforcedPowerLimit)
        reasons = self._query("clock_event_reasons", nvml.nvmlDeviceGetCurrentClocksEventReasons)
        corrected = self._ecc("ecc_corrected", nvml.NVML_MEMORY_ERROR_TYPE_CORRECTED)
        uncorrected = self._ecc("ecc_uncorrected", nvml.NVML_MEMORY_ERROR_TYPE_UNCORRECTED)
        return GpuReading(
            index=self.index,
            uuid=self.uuid,
            up=not self._failed,
            utilization_ratio=None if utilization is None else utilization.gpu / 100,
            memory_used_bytes=None if memory is None else memory.used,
            memory_total_bytes=None if memory is None else memory.total,
            temperature_celsius=temperature,
            power_watts=None if power_mw is None else power_mw / 1000,
            power_limit_watts=None if limit_mw is None else limit_mw / 1000,
            clock_event_reasons=reasons,
            ecc_corrected=corrected,
            ecc_uncorrected=uncorrected,
        )

    def _temperature(self, handle: object) -> int:
        return self._nvml.nvmlDeviceGetTemperature(handle, self._nvml.NVML_TEMPERATURE_GPU)

    def _ecc(self, reading: str, error_type: int) -> int | None:
        nvml = self._nvml
        return self._query(
            reading,
            lambda h: nvml.nvmlDeviceGetTotalEccErrors(h, error_type, nvml.NVML_VOLATILE_ECC),
        )

    def _query(self, reading: str, call: Callable[[object], T]) -> T | None:
        """``call(handle)``; None (and remembered) when unsupported, None when it failed."""
        if reading in self.unsupported:
            return None
        try:
            return call(self.handle)
        except self._nvml.NVMLError as exc:
            if means_unsupported(self._nvml, exc):
                self.unsupported.add(reading)
            else:
                self._failed = True
            return None
