"""The Grafana dashboard: valid JSON, and every query on a metric the code exports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.deploy.conftest import DASHBOARD, referenced_metric_names

GRAFANA_VARIABLES = {
    "$__rate_interval": "5m",
    "$instance": ".*",
    "$tenant": ".*",
    "$gpu": ".*",
}
NOT_CHARTED = {"enclave_gpu_throttle_reasons"}
"""Exported but deliberately not charted (the per-reason series show the same facts)."""


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return document


def fetched_promtool() -> str | None:
    """The promtool `make test` extracts from Debian's prometheus package."""
    path = Path(__file__).resolve().parents[3] / "var" / "tools" / "usr" / "bin" / "promtool"
    return str(path) if path.exists() else None


def queries(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_the_dashboard_has_the_rows_operators_look_for(dashboard: dict[str, Any]) -> None:
    rows = [p["title"] for p in dashboard["panels"] if p["type"] == "row"]
    for expected in (
        "Requests",
        "Latency",
        "Tokens",
        "rate limits",
        "PII",
        "Audit",
        "Engine",
        "GPU",
    ):
        assert any(expected in row for row in rows), expected
    assert dashboard["uid"] == "enclave-gateway"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))


def test_every_queried_metric_is_exported_by_the_code(
    dashboard: dict[str, Any], exported: frozenset[str]
) -> None:
    for expr in queries(dashboard):
        names = referenced_metric_names(expr)
        assert names, expr
        assert names <= exported, f"unknown {sorted(names - exported)} in {expr}"


def test_every_exported_metric_is_charted(
    dashboard: dict[str, Any], exported: frozenset[str]
) -> None:
    charted = set().union(*(referenced_metric_names(expr) for expr in queries(dashboard)))
    bases = {re.sub(r"_(total|bucket|count|sum|created)$", "", name) for name in charted}
    missing = {
        name
        for name in exported - NOT_CHARTED
        if not name.endswith("_created")
        and re.sub(r"_(total|bucket|count|sum)$", "", name) not in bases
    }
    assert not missing, sorted(missing)


def test_latency_is_shown_as_gateway_and_engine_time(dashboard: dict[str, Any]) -> None:
    text = " ".join(queries(dashboard))
    assert (
        "histogram_quantile(0.99, sum by (le, route) (rate(enclave_request_gateway_seconds_bucket"
        in text
    )
    assert "enclave_request_engine_seconds_bucket" in text
    assert "enclave_time_to_first_token_seconds_bucket" in text


def test_panels_use_the_datasource_variable(dashboard: dict[str, Any]) -> None:
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_every_query_is_valid_promql(dashboard: dict[str, Any], tmp_path: Path) -> None:
    def concrete(expr: str) -> str:
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        return expr

    rules = [
        {"record": f"dashboard:query_{index}", "expr": concrete(expr)}
        for index, expr in enumerate(queries(dashboard))
    ]
    rule_file = tmp_path / "dashboard-queries.yaml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    tool = os.environ.get("PROMTOOL") or shutil.which("promtool") or fetched_promtool()
    assert tool is not None
    result = subprocess.run(
        [tool, "check", "rules", str(rule_file)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
