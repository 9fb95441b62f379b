"""Critical XID errors, from NVML's event API.

NVML keeps no XID counter to read. What it offers is an event set: register each GPU
for ``nvmlEventTypeXidCriticalError`` and the driver queues one event per critical XID
from then on. ``XidWatcher`` registers once and drains the queue without waiting at
every sample, so the exported count is "critical XIDs since this gateway started" (a
Prometheus counter: ``increase()`` over it is what alerts use). XIDs from before the
start are not visible through NVML (they are in the kernel log). A GPU whose driver
refuses the registration gets no XID series: absent, never a zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from gateway.metrics.nvml import GpuDevice, Nvml, as_text, error_code, means_unsupported

log = structlog.get_logger("enclave.metrics.gpu")

MAX_EVENTS_PER_DRAIN = 256
"""Bound on events taken per sample, so an XID storm cannot pin the worker thread."""


class XidWatcher:
    """One NVML event set for the critical XID events of the GPUs that offer them."""

    def __init__(self, nvml: Nvml, event_set: object, watched: frozenset[str]) -> None:
        self._nvml = nvml
        self._event_set = event_set
        self.watched = watched
        """UUIDs of the GPUs whose XID events are delivered."""

    @classmethod
    def open(cls, nvml: Nvml, devices: Sequence[GpuDevice]) -> XidWatcher | None:
        """Register every GPU that offers XID events; None when none does. Blocks."""
        try:
            event_set = nvml.nvmlEventSetCreate()
        except nvml.NVMLError as exc:
            log.info("XID events unavailable", reason=str(exc))
            return None
        watched = {device.uuid for device in devices if _register(nvml, device, event_set)}
        if not watched:
            nvml.nvmlEventSetFree(event_set)
            return None
        return cls(nvml, event_set, frozenset(watched))

    def drain(self) -> list[tuple[str, int]]:
        """``(gpu uuid, xid)`` of every event queued since the last drain. Blocks briefly."""
        events: list[tuple[str, int]] = []
        for _ in range(MAX_EVENTS_PER_DRAIN):
            try:
                data = self._nvml.nvmlEventSetWait_v2(self._event_set, 0)
                uuid = as_text(self._nvml.nvmlDeviceGetUUID(data.device))
            except self._nvml.NVMLError as exc:
                if error_code(self._nvml, exc) != self._nvml.NVML_ERROR_TIMEOUT:
                    log.warning("reading XID events failed", reason=str(exc))
                break
            if data.eventType & self._nvml.nvmlEventTypeXidCriticalError:
                events.append((uuid, int(data.eventData)))
        return events

    def close(self) -> None:
        try:
            self._nvml.nvmlEventSetFree(self._event_set)
        except self._nvml.NVMLError as exc:
            log.warning("freeing the XID event set failed", reason=str(exc))


def _register(nvml: Nvml, device: GpuDevice, event_set: object) -> bool:
    try:
        nvml.nvmlDeviceRegisterEvents(device.handle, nvml.nvmlEventTypeXidCriticalError, event_set)
    except nvml.NVMLError as exc:
        if not means_unsupported(nvml, exc):
            log.warning("XID event registration failed", gpu=device.index, reason=str(exc))
        return False
    return True
