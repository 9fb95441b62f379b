"""Prometheus metrics: the gateway's registry, GPU health from NVML, and ``/metrics``.

Built once at start-up (``GatewayMetrics()``, ``await GpuSampler.open(metrics.registry)``)
and handed to whatever records or serves them; nothing here is a module-level singleton.
"""

from gateway.metrics.gpu import GpuSampler
from gateway.metrics.labels import TenantLabels
from gateway.metrics.registry import GatewayMetrics

__all__ = ["GatewayMetrics", "GpuSampler", "TenantLabels"]
