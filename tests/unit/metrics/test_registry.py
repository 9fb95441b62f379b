"""GatewayMetrics: what the gateway records, and what a scrape of /metrics shows."""

from __future__ import annotations

import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.metrics.registry import LATENCY_BUCKETS, GatewayMetrics

CHAT = "/v1/chat/completions"


@pytest.fixture
def metrics() -> GatewayMetrics:
    return GatewayMetrics()


def sample(metrics: GatewayMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_requests_are_counted_by_route_status_tenant_and_department(
    metrics: GatewayMetrics,
) -> None:
    metrics.observe_request(CHAT, 200, "acme", "finance", 0.004, 1.25)
    metrics.observe_request(CHAT, 200, "acme", "finance", 0.006, 0.75)
    metrics.observe_request(CHAT, 429, "acme", "finance", 0.001, None)
    labels = {"route": CHAT, "tenant": "acme", "department": "finance"}
    assert sample(metrics, "enclave_http_requests_total", status="200", **labels) == 2
    assert sample(metrics, "enclave_http_requests_total", status="429", **labels) == 1


def test_latency_is_split_into_gateway_and_engine_time(metrics: GatewayMetrics) -> None:
    metrics.observe_request(CHAT, 200, "acme", "finance", 0.004, 1.25)
    metrics.observe_request(CHAT, 429, "acme", "finance", 0.001, None)
    gateway = "enclave_request_gateway_seconds"
    engine = "enclave_request_engine_seconds"
    assert sample(metrics, f"{gateway}_count", route=CHAT) == 2
    assert sample(metrics, f"{gateway}_sum", route=CHAT) == pytest.approx(0.005)
    assert sample(metrics, f"{engine}_count", route=CHAT) == 1, "refusals never reached the engine"
    assert sample(metrics, f"{engine}_bucket", route=CHAT, le="1.0") == 0
    assert sample(metrics, f"{engine}_bucket", route=CHAT, le="2.5") == 1
    assert sample(metrics, f"{gateway}_bucket", route=CHAT, le="0.005") == 2


def test_buckets_resolve_gpu_milliseconds_and_cpu_minutes() -> None:
    assert LATENCY_BUCKETS[0] <= 0.001
    assert any(0.005 <= b <= 0.02 for b in LATENCY_BUCKETS), "GPU first tokens (~10 ms)"
    assert LATENCY_BUCKETS[-1] >= 120, "long CPU completions"
    assert list(LATENCY_BUCKETS) == sorted(LATENCY_BUCKETS)


def test_time_to_first_token_and_tokens(metrics: GatewayMetrics) -> None:
    metrics.observe_first_token(CHAT, 0.012)
    metrics.count_tokens("acme", "finance", prompt=120, completion=30)
    metrics.count_tokens("acme", "finance", prompt=80, completion=20)
    assert sample(metrics, "enclave_time_to_first_token_seconds_count", route=CHAT) == 1
    assert (
        sample(metrics, "enclave_prompt_tokens_total", tenant="acme", department="finance") == 200
    )
    assert (
        sample(metrics, "enclave_completion_tokens_total", tenant="acme", department="finance")
        == 50
    )


def test_refusals_pii_and_readiness(metrics: GatewayMetrics) -> None:
    metrics.count_rate_limit_refusal("tokens")
    metrics.count_rate_limit_refusal("store_unavailable")
    metrics.count_rate_limit_refusal("whatever")
    metrics.count_pii("EMAIL_ADDRESS", "redact", "input", count=2)
    metrics.count_pii("PERSON", "pseudonymize", "output")
    metrics.set_ready("engine", True)
    metrics.set_ready("rate_limit_store", False)
    assert sample(metrics, "enclave_rate_limit_refusals_total", kind="tokens") == 1
    assert sample(metrics, "enclave_rate_limit_refusals_total", kind="store_unavailable") == 1
    assert sample(metrics, "enclave_rate_limit_refusals_total", kind="invalid") == 1
    pii = "enclave_pii_detections_total"
    assert (
        sample(metrics, pii, entity_type="EMAIL_ADDRESS", action="redact", direction="input") == 2
    )
    assert (
        sample(metrics, pii, entity_type="PERSON", action="pseudonymize", direction="output") == 1
    )
    assert sample(metrics, "enclave_ready", component="engine") == 1
    assert sample(metrics, "enclave_ready", component="rate_limit_store") == 0


def test_audit_writer_state(metrics: GatewayMetrics) -> None:
    metrics.set_audit_queue_depth(17)
    metrics.observe_audit_commit(0.003, batch_size=12)
    metrics.count_audit_failure()
    assert sample(metrics, "enclave_audit_queue_depth") == 17
    assert sample(metrics, "enclave_audit_commit_seconds_count") == 1
    assert sample(metrics, "enclave_audit_commit_batch_size_sum") == 12
    assert sample(metrics, "enclave_audit_write_failures_total") == 1


def test_bad_values_never_raise(metrics: GatewayMetrics) -> None:
    metrics.count_tokens("acme", "finance", prompt=-5, completion=-1)
    metrics.observe_request(CHAT, 200, "acme", "finance", -0.1, -2.0)
    assert sample(metrics, "enclave_prompt_tokens_total", tenant="acme", department="finance") == 0


def test_pii_and_token_material_never_reach_the_exposition(metrics: GatewayMetrics) -> None:
    email, token = "alice@example.com", "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0.c2ln"
    metrics.observe_request(f"/v1/audit/records/{email}", 404, email, token, 0.001, None)
    metrics.count_tokens(email, token, 1, 1)
    metrics.count_pii(email, "redact", "input")
    metrics.set_ready(token, True)
    body, _ = metrics.render()
    text = body.decode()
    assert "alice" not in text
    assert "eyJ" not in text
    assert 'tenant="invalid"' in text


def test_tenant_labels_are_bounded(metrics: GatewayMetrics) -> None:
    bounded = GatewayMetrics(max_tenants=2)
    for tenant in ("t1", "t2", "t3", "t4"):
        bounded.count_tokens(tenant, "finance", 1, 1)
    tenants = {
        s.labels["tenant"]
        for m in bounded.registry.collect()
        for s in m.samples
        if s.name == "enclave_prompt_tokens_total"
    }
    assert tenants == {"t1", "t2", "other"}


def test_render_gives_the_prometheus_text_format(metrics: GatewayMetrics) -> None:
    metrics.observe_request(CHAT, 200, "acme", "finance", 0.004, 1.25)
    body, content_type = metrics.render()
    assert content_type.startswith("text/plain; version=0.0.4")
    names = {family.name for family in text_string_to_metric_families(body.decode())}
    assert {"enclave_http_requests", "enclave_request_engine_seconds"} <= names


def test_render_gives_openmetrics_when_the_scraper_asks(metrics: GatewayMetrics) -> None:
    body, content_type = metrics.render("application/openmetrics-text; version=1.0.0")
    assert content_type.startswith("application/openmetrics-text")
    assert body.rstrip().endswith(b"# EOF")


def test_every_metric_is_namespaced_and_documented(metrics: GatewayMetrics) -> None:
    for family in metrics.registry.collect():
        assert re.fullmatch(r"enclave_[a-z0-9_]+", family.name)
        assert family.documentation


def test_two_instances_do_not_share_state() -> None:
    first, second = GatewayMetrics(), GatewayMetrics()
    first.count_audit_failure()
    assert second.registry.get_sample_value("enclave_audit_write_failures_total") == 0
