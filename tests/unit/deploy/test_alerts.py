"""The Prometheus alert rules: right structure, real metric names, and they fire."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.deploy.conftest import ALERTS, referenced_metric_names

REQUIRED_ALERTS = {
    "EnclaveEngineNotReady",
    "EnclaveAuditWriterFailing",
    "EnclaveHigh5xxRate",
    "EnclaveRateLimitStoreDown",
    "EnclaveGpuTemperatureHigh",
    "EnclaveGpuMemoryHigh",
    "EnclaveGpuUncorrectableEccError",
}


def fetched_promtool() -> str | None:
    """The promtool `make test` extracts from Debian's prometheus package."""
    path = Path(__file__).resolve().parents[3] / "var" / "tools" / "usr" / "bin" / "promtool"
    return str(path) if path.exists() else None


def promtool() -> str | None:
    return os.environ.get("PROMTOOL") or shutil.which("promtool") or fetched_promtool()


@pytest.fixture(scope="module")
def rules() -> list[dict[str, Any]]:
    document = yaml.safe_load(ALERTS.read_text())
    assert set(document) == {"groups"}
    rules: list[dict[str, Any]] = []
    for group in document["groups"]:
        assert set(group) == {"name", "rules"}
        assert group["rules"]
        rules.extend(group["rules"])
    return rules


def test_every_rule_is_a_complete_alert(rules: list[dict[str, Any]]) -> None:
    for rule in rules:
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule.get("alert")
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert {"summary", "description"} <= set(rule["annotations"])
        assert isinstance(rule["for"], str)
        assert rule["for"][-1] in "smh"


def test_the_alerts_the_operators_asked_for_exist(rules: list[dict[str, Any]]) -> None:
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    assert set(names) >= REQUIRED_ALERTS


def test_thresholds_match_the_runbook(rules: list[dict[str, Any]]) -> None:
    by_name = {rule["alert"]: rule for rule in rules}
    temperature = by_name["EnclaveGpuTemperatureHigh"]
    assert "> 85" in temperature["expr"]
    assert temperature["for"] == "5m"
    memory = by_name["EnclaveGpuMemoryHigh"]
    assert "enclave_gpu_memory_used_bytes / enclave_gpu_memory_total_bytes" in memory["expr"]
    assert memory["for"] == "10m"
    ecc = by_name["EnclaveGpuUncorrectableEccError"]["expr"]
    assert 'type="uncorrected"' in ecc
    assert "increase(" in ecc


def test_every_metric_in_an_alert_is_exported_by_the_code(
    rules: list[dict[str, Any]], exported: frozenset[str]
) -> None:
    for rule in rules:
        names = referenced_metric_names(rule["expr"])
        assert names, rule["alert"]
        assert names <= exported, f"{rule['alert']}: unknown {sorted(names - exported)}"


def test_promtool_accepts_the_rules_and_their_unit_tests_pass() -> None:
    tool = promtool()
    assert tool is not None, "promtool is needed (make test fetches it; or set PROMTOOL)"
    folder = Path(ALERTS).parent
    for command in (["check", "rules", "alerts.yaml"], ["test", "rules", "alerts.test.yaml"]):
        result = subprocess.run(
            [tool, *command], cwd=folder, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
