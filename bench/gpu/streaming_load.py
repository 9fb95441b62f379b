"""Closed-loop streaming load against an OpenAI-compatible `/v1/chat/completions`.

Each of C workers sends its next request as soon as the previous one ends, until N requests
are done. Every request streams (with usage) so that time to first token and the real number
of generated tokens are known for bare vLLM and Enclave alike.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import statistics
import time
from dataclasses import dataclass

import httpx

PROMPT = (
    "You are helping an operations team. Summarise the following maintenance log in plain "
    "words, list the three most urgent follow-ups, and say which team owns each of them. "
    "Pump 4 vibration rose after the bearing swap; valve 12 sticks below five degrees; the "
    "night shift reported a coolant smell near line B; two sensors on the east wall drift "
    "by half a degree per day; the backup generator test was skipped last week."
)


@dataclass(frozen=True, slots=True)
class Sample:
    latency_s: float
    first_token_s: float
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class LevelResult:
    concurrency: int
    requests: int
    wall_s: float
    samples: tuple[Sample, ...]
    errors: int

    @property
    def requests_per_s(self) -> float:
        return len(self.samples) / self.wall_s

    @property
    def output_tokens_per_s(self) -> float:
        return sum(sample.completion_tokens for sample in self.samples) / self.wall_s

    def latency_ms(self, quantile: float) -> float:
        return 1000 * percentile([sample.latency_s for sample in self.samples], quantile)

    def first_token_ms(self, quantile: float) -> float:
        return 1000 * percentile([sample.first_token_s for sample in self.samples], quantile)


def percentile(values: list[float], quantile: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(quantile * 100) - 1]


async def one_request(client: httpx.AsyncClient, url: str, model: str, max_tokens: int) -> Sample:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": PROMPT}],
        "max_tokens": max_tokens,
        "temperature": 0.8,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    started = time.perf_counter()
    first: float | None = None
    tokens = 0
    async with client.stream("POST", url, json=body) as response:
        if response.status_code != 200:
            await response.aread()
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        async for line in response.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if first is None and chunk.get("choices"):
                first = time.perf_counter()
            if chunk.get("usage"):
                tokens = int(chunk["usage"]["completion_tokens"])
    ended = time.perf_counter()
    return Sample(ended - started, (first or ended) - started, tokens)


async def run_level(
    base_url: str,
    model: str,
    *,
    token: str | None,
    ca_file: str | None,
    concurrency: int,
    requests: int,
    max_tokens: int,
) -> LevelResult:
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=ca_file) if ca_file else False
    headers = {"authorization": f"Bearer {token}"} if token else {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    url = f"{base_url}/v1/chat/completions"
    samples: list[Sample] = []
    errors = 0
    remaining = requests
    async with httpx.AsyncClient(
        verify=verify, headers=headers, limits=limits, timeout=300
    ) as client:
        for _ in range(min(concurrency, 4)):  # warm the connections and the engine's caches
            await one_request(client, url, model, 8)

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                try:
                    samples.append(await one_request(client, url, model, max_tokens))
                except (httpx.HTTPError, RuntimeError):
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return LevelResult(concurrency, requests, wall, tuple(samples), errors)
