"""An OpenAI-compatible upstream that answers at once: the peer of Enclave's instant engine.

A bare ASGI app (no framework) on uvicorn, so that what it costs is close to the floor of
any Python HTTP server. It answers ``/v1/chat/completions`` (plain and streamed) with the
same fixed sentence as ``engine/instant_engine.py``, one token per word, and ``/v1/models``.

    PYTHONPATH=bench uvicorn harness.instant_upstream:app --port 8000
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from engine.instant_engine import ANSWER_WORDS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MODEL = os.environ.get("INSTANT_UPSTREAM_MODEL", "tiny-llama")
JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    path, method = scope["path"], scope["method"]
    if method == "GET" and path == "/v1/models":
        models = {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0}]}
        await _respond(send, 200, JSON_HEADERS, json.dumps(models).encode())
    elif method == "POST" and path == "/v1/chat/completions":
        await _chat(json.loads(await _body(receive)), send)
    else:
        await _respond(send, 404, JSON_HEADERS, b'{"error": {"message": "not found"}}')


async def _chat(request: dict[str, Any], send: Send) -> None:
    words = min(request.get("max_tokens") or len(ANSWER_WORDS), len(ANSWER_WORDS))
    text = "".join(ANSWER_WORDS[:words])
    finish = "stop" if words == len(ANSWER_WORDS) else "length"
    prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in request["messages"])
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": words,
        "total_tokens": prompt_tokens + words,
    }
    base = {"id": f"chatcmpl-{time.monotonic_ns()}", "created": int(time.time()), "model": MODEL}
    if not request.get("stream"):
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": finish,
        }
        answer = {**base, "object": "chat.completion", "choices": [choice], "usage": usage}
        await _respond(send, 200, JSON_HEADERS, json.dumps(answer).encode())
        return
    chunk = {**base, "object": "chat.completion.chunk"}
    content = {"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}
    events = [
        {**chunk, "choices": [content]},
        {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]},
    ]
    if (request.get("stream_options") or {}).get("include_usage"):
        events.append({**chunk, "choices": [], "usage": usage})
    body = "".join(f"data: {json.dumps(event)}\n\n" for event in events) + "data: [DONE]\n\n"
    await _respond(send, 200, SSE_HEADERS, body.encode())


async def _body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(parts)


async def _respond(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
