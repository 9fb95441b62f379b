"""Prometheus metrics on their own port, moving with real traffic, never carrying secrets."""

from __future__ import annotations

import asyncio
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


STREAMS = 8


async def scrape_engine_gauges(metrics_url: str, load: asyncio.Task[list[int]]) -> list[str]:
    """Scrape /metrics again and again until ``load`` is done; every body seen."""
    bodies: list[str] = []
    async with httpx.AsyncClient() as http:
        while not load.done():
            bodies.append((await http.get(metrics_url)).text)
            await asyncio.sleep(0.05)
    return bodies


async def concurrent_streams(gateway: RunningGateway) -> list[int]:
    """STREAMS long streaming completions at once; the completion tokens of each."""
    client = gateway.async_client()

    async def one(number: int) -> int:
        stream = await client.chat.completions.create(
            model=gateway.model,
            messages=[{"role": "user", "content": f"tell story number {number} at length"}],
            max_tokens=200,
            stream=True,
            stream_options={"include_usage": True},
        )
        tokens = 0
        async for chunk in stream:
            if chunk.usage is not None:
                tokens = chunk.usage.completion_tokens
        return tokens

    async with client:
        return list(await asyncio.gather(*(one(n) for n in range(STREAMS))))


async def streams_while_scraping(gateway: RunningGateway) -> tuple[list[int], list[str]]:
    load = asyncio.create_task(concurrent_streams(gateway))
    bodies = await scrape_engine_gauges(gateway.metrics_url, load)
    return await load, bodies


def test_engine_gauges_follow_vllms_scheduler_under_load(gateway: RunningGateway) -> None:
    tokens, bodies = asyncio.run(streams_while_scraping(gateway))
    assert all(count > 0 for count in tokens), tokens
    running = [sample(body, "enclave_engine_running_requests") for body in bodies]
    usage = [sample(body, "enclave_engine_kv_cache_usage_ratio") for body in bodies]
    print(
        f"{len(bodies)} scrapes during {STREAMS} streams: running up to {max(running):.0f}, "
        f"KV cache up to {max(usage):.1%}"
    )
    assert max(running) > 0, "no scrape saw a running request"
    assert 1 <= max(running) <= STREAMS
    assert 0 < max(usage) <= 1, "no scrape saw the KV cache in use"
    assert all("enclave_engine_waiting_requests " in body for body in bodies)
    idle = httpx.get(gateway.metrics_url).text
    assert sample(idle, "enclave_engine_running_requests") == 0, "finished streams still running"
    assert sample(idle, "enclave_engine_kv_cache_usage_ratio") == 0
