"""Prometheus metrics on their own port, moving with real traffic, never carrying secrets."""

from __future__ import annotations

import re

import httpx
import openai
import pytest

from tests.e2e.conftest import RunningGateway

pytestmark = pytest.mark.e2e


def sample(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_count_requests_tokens_and_first_tokens(
    gateway: RunningGateway, client: openai.OpenAI
) -> None:
    before = httpx.get(gateway.metrics_url).text
    stream = client.chat.completions.create(
        model=gateway.model,
        messages=[{"role": "user", "content": "secret-marker-77 hello"}],
        max_tokens=5,
        stream=True,
    )
    assert list(stream)
    after = httpx.get(gateway.metrics_url).text
    route = {"route": "/v1/chat/completions", "tenant": "acme", "department": "engineering"}
    requests = "enclave_http_requests_total"
    assert sample(after, requests, status="200", **route) > sample(
        before, requests, status="200", **route
    )
    completion = "enclave_completion_tokens_total"
    assert sample(after, completion, tenant="acme") > sample(before, completion, tenant="acme")
    ttft = "enclave_time_to_first_token_seconds_count"
    assert sample(after, ttft) > sample(before, ttft)
    assert "enclave_request_engine_seconds_bucket" in after
    assert "secret-marker-77" not in after
    assert gateway.token not in after
    assert not re.search(r"enclave_gpu_", after), "no GPU here: GPU gauges must be absent"
