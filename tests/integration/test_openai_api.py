"""The OpenAI-compatible routes, driven through the app with the echo engine."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.support.echo_engine import ECHO_MODEL, EchoEngine
from tests.support.identity import TokenFactory

pytestmark = pytest.mark.anyio

Client = AsyncTestClient  # type: ignore[type-arg]


def chat(content: str = "hello brave new world", **extra: Any) -> dict[str, Any]:
    return {"model": ECHO_MODEL, "messages": [{"role": "user", "content": content}], **extra}


def sse_payloads(text: str) -> list[Any]:
    events = [line[len("data: ") :] for line in text.split("\n\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    return [json.loads(event) for event in events[:-1]]


async def test_chat_completion_returns_answer_and_usage(client: Client) -> None:
    response = await client.post("/v1/chat/completions", json=chat())
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == ECHO_MODEL
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": "hello brave new world",
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}
    assert response.headers["x-request-id"] in body["id"]


async def test_max_tokens_cuts_the_answer_with_finish_reason_length(client: Client) -> None:
    response = await client.post("/v1/chat/completions", json=chat(max_tokens=2))
    choice = response.json()["choices"][0]
    assert choice["message"]["content"] == "hello brave"
    assert choice["finish_reason"] == "length"
    response = await client.post("/v1/chat/completions", json=chat(max_completion_tokens=1))
    assert response.json()["choices"][0]["message"]["content"] == "hello"


async def test_n_choices_each_counted_in_usage(client: Client) -> None:
    response = await client.post("/v1/chat/completions", json=chat("a b", n=3))
    body = response.json()
    assert [choice["index"] for choice in body["choices"]] == [0, 1, 2]
    assert body["usage"]["completion_tokens"] == 6


async def test_chat_stream_sends_role_deltas_and_done(client: Client) -> None:
    payload = chat("one two three", stream=True, stream_options={"include_usage": True})
    response = await client.post("/v1/chat/completions", json=payload)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    chunks = sse_payloads(response.text)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "one two three"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 3


async def test_completions_plain_and_streamed(client: Client) -> None:
    response = await client.post("/v1/completions", json={"model": ECHO_MODEL, "prompt": "x y z"})
    body = response.json()
    assert body["object"] == "text_completion"
    assert body["choices"][0]["text"] == "x y z"
    assert body["usage"]["total_tokens"] == 6
    streamed = await client.post(
        "/v1/completions", json={"model": ECHO_MODEL, "prompt": "x y", "stream": True}
    )
    chunks = sse_payloads(streamed.text)
    assert "".join(c["choices"][0]["text"] for c in chunks) == "x y"


async def test_logprobs_rendered_in_openai_shape(
    anonymous_client: Client, tokens: TokenFactory
) -> None:
    tokens.add_tenant("lab", "research")
    token, _ = tokens.issue("lab", ("app",))
    client = anonymous_client
    client.headers["authorization"] = f"Bearer {token}"
    response = await client.post(
        "/v1/chat/completions", json=chat("a b", logprobs=True, top_logprobs=2)
    )
    content = response.json()["choices"][0]["logprobs"]["content"]
    assert [entry["token"] for entry in content] == ["a", " b"]
    assert len(content[0]["top_logprobs"]) == 2
    completion = await client.post(
        "/v1/completions", json={"model": ECHO_MODEL, "prompt": "a b", "logprobs": 1}
    )
    logprobs = completion.json()["choices"][0]["logprobs"]
    assert logprobs["tokens"] == ["a", " b"]
    assert logprobs["text_offset"] == [0, 1]
    assert all(len(top) == 1 for top in logprobs["top_logprobs"])


async def test_models_lists_the_served_model(client: Client) -> None:
    response = await client.get("/v1/models")
    assert response.json()["data"][0]["id"] == ECHO_MODEL


async def test_health_and_readiness(client: Client, echo_engine: EchoEngine) -> None:
    assert (await client.get("/healthz")).status_code == 200
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    assert checks["engine"]["device"] == "memory"
    assert set(checks) == {"engine", "database", "rate_limit_store", "policies", "draining"}
    assert all(check["ready"] for check in checks.values())
    echo_engine.ready = False
    assert (await client.get("/readyz")).status_code == 503


async def test_every_response_carries_a_distinct_request_id(client: Client) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_logprobs_refused_where_completions_are_redacted(client: Client) -> None:
    response = await client.post("/v1/chat/completions", json=chat("a b", logprobs=True))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "logprobs_unavailable_under_pii_policy"
