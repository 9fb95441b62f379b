"""Paths of the deployment files, and the metric names the code can export."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.metrics.gpu_collector import GPU_SERIES_NAMES
from gateway.metrics.registry import GatewayMetrics

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
ALERTS = DEPLOY / "prometheus" / "alerts.yaml"
DASHBOARD = DEPLOY / "grafana" / "enclave-dashboard.json"

METRIC_NAME = re.compile(r"\benclave_[a-z0-9_]+")
"""Enclave's metric names inside PromQL (every Enclave metric starts with ``enclave_``)."""

SERIES_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
}


def exported_series_names() -> frozenset[str]:
    """Every series name /metrics can carry: the gateway's registry and the GPU sampler's."""
    names: set[str] = set(GPU_SERIES_NAMES)
    for family in GatewayMetrics().registry.collect():
        names.update(family.name + suffix for suffix in SERIES_SUFFIXES[family.type])
    return frozenset(names)


def referenced_metric_names(promql: str) -> set[str]:
    return set(METRIC_NAME.findall(promql))


@pytest.fixture(scope="session")
def exported() -> frozenset[str]:
    return exported_series_names()
