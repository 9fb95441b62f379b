"""A light load generator: N chat completions at concurrency C over HTTP/1.1 keep-alive.

Every system is measured by the same client code (httpx.AsyncClient in this one process):
non-streamed requests read the JSON answer; streamed ones read server-sent events, note the
first content chunk (time to first token) and take the token count from the usage chunk.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx
import msgspec

from .stats import RequestSample

REQUEST_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class Target:
    """Where a system answers: its OpenAI-compatible base URL (ending in /v1) and credentials."""

    name: str
    base_url: str
    model: str
    headers: Mapping[str, str] = field(default_factory=dict)
    verify: ssl.SSLContext | bool = False


@dataclass(frozen=True, slots=True)
class Workload:
    """What each request asks for."""

    prompts: tuple[str, ...]
    """Cycled through by request number, so neighbouring requests differ."""
    max_tokens: int
    stream: bool
    tag: str = "run"
    """Put in front of every prompt with the request number: no two prompts of a benchmark
    share a prefix, so no system gains from a prefix cache."""


class _Usage(msgspec.Struct):
    completion_tokens: int = 0


class _Message(msgspec.Struct):
    content: str | None = None


class _Choice(msgspec.Struct):
    message: _Message | None = None
    delta: _Message | None = None


class _Answer(msgspec.Struct):
    choices: list[_Choice] = []
    usage: _Usage | None = None


_decode_answer = msgspec.json.Decoder(_Answer).decode


def request_body(workload: Workload, model: str, number: int) -> dict[str, object]:
    body: dict[str, object] = {
        "model": model,
        "messages": [
            {
                "role": "user",
                "content": f"{workload.tag}-{number}: "
                + workload.prompts[number % len(workload.prompts)],
            }
        ],
        "max_tokens": workload.max_tokens,
        "temperature": 0.0,
    }
    if workload.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def open_client(target: Target, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(
        base_url=target.base_url,
        headers=dict(target.headers),
        verify=target.verify,
        limits=limits,
        timeout=REQUEST_TIMEOUT_S,
        http1=True,
        http2=False,
    )


async def one_request(
    client: httpx.AsyncClient, target: Target, workload: Workload, number: int
) -> RequestSample:
    body = request_body(workload, target.model, number)
    started = time.perf_counter()
    try:
        if workload.stream:
            first, tokens, ok = await _streamed(client, body, started)
        else:
            first, tokens, ok = await _answered(client, body)
    except httpx.HTTPError:
        first, tokens, ok = None, 0, False
    return RequestSample(time.perf_counter() - started, first, tokens, ok)


async def _answered(
    client: httpx.AsyncClient, body: dict[str, object]
) -> tuple[float | None, int, bool]:
    response = await client.post("/chat/completions", json=body)
    if response.status_code != 200:
        return None, 0, False
    answer = _decode_answer(response.content)
    tokens = answer.usage.completion_tokens if answer.usage else 0
    return None, tokens, bool(answer.choices)


async def _streamed(
    client: httpx.AsyncClient, body: dict[str, object], started: float
) -> tuple[float | None, int, bool]:
    first: float | None = None
    tokens = chunks = 0
    done = False
    async with client.stream("POST", "/chat/completions", json=body) as response:
        if response.status_code != 200:
            await response.aread()
            return None, 0, False
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            payload = line[6:]
            if payload == "[DONE]":
                done = True
                continue
            chunk = _decode_answer(payload)
            if chunk.usage is not None:
                tokens = chunk.usage.completion_tokens
            if any(choice.delta and choice.delta.content for choice in chunk.choices):
                chunks += 1
                if first is None:
                    first = time.perf_counter() - started
    return first, tokens or chunks, done


async def run_load(
    target: Target, workload: Workload, concurrency: int, requests: int
) -> tuple[list[RequestSample], float]:
    """Send ``requests`` requests, at most ``concurrency`` at a time; samples and wall seconds.

    First one untimed request per connection opens the connections (TLS handshakes
    included) and warms the server; then the timed requests reuse them.
    """
    async with open_client(target, concurrency) as client:
        await _send_all(client, target, workload, concurrency, range(-concurrency, 0))
        started = time.perf_counter()
        samples = await _send_all(client, target, workload, concurrency, range(requests))
        wall = time.perf_counter() - started
    return samples, wall


async def _send_all(
    client: httpx.AsyncClient,
    target: Target,
    workload: Workload,
    concurrency: int,
    numbers: range,
) -> list[RequestSample]:
    samples: list[RequestSample] = []
    counter = iter(numbers)

    async def worker() -> None:
        for number in counter:
            samples.append(await one_request(client, target, workload, number))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples
