"""Requests running when the grace period after SIGTERM ends: ended cleanly, recorded why.

The echo engine starts the shutdown clock itself after a few tokens, so the moment is the
same on every run; the server's own part (signals, uvicorn, exit code) is covered by
``tests/e2e/test_graceful_shutdown.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from engine.protocol import GenerationStep, SamplingSpec
from gateway.services import Services
from gateway.shutdown import Drain
from tests.support.echo_engine import ECHO_MODEL, EchoEngine

pytestmark = pytest.mark.anyio

Client = AsyncTestClient  # type: ignore[type-arg]
WORDS = "one two three four five six seven eight nine ten"
SIGTERM_AT_TOKEN = 3


class SigtermMidAnswer(EchoEngine):
    """Echoes, and starts the shutdown clock (``grace`` seconds) at its third token."""

    def __init__(self) -> None:
        super().__init__()
        self.drain = Drain()
        self.grace = 0.0

    async def generate(
        self, request_id: str, prompt_token_ids: Sequence[int], sampling: SamplingSpec
    ) -> AsyncIterator[GenerationStep]:
        produced = 0
        async for step in super().generate(request_id, prompt_token_ids, sampling):
            produced += 1
            if produced == SIGTERM_AT_TOKEN:
                self.drain.begin(self.grace)
            yield step


@pytest.fixture
def echo_engine() -> EchoEngine:
    return SigtermMidAnswer()


@pytest.fixture
def engine(echo_engine: EchoEngine, services: Services) -> SigtermMidAnswer:
    assert isinstance(echo_engine, SigtermMidAnswer)
    echo_engine.drain = services.drain
    return echo_engine


def records(sessions: sessionmaker[Session], request_id: str) -> list[dict[str, Any]]:
    query = text(
        "SELECT kind, status, reasons FROM audit_events WHERE request_id = :id ORDER BY id"
    )
    with sessions() as session:
        return [dict(row._mapping) for row in session.execute(query, {"id": request_id})]


def sse_payloads(body: str) -> list[str]:
    return [line[len("data: ") :] for line in body.splitlines() if line.startswith("data: ")]


def chat(stream: bool) -> dict[str, object]:
    return {
        "model": ECHO_MODEL,
        "messages": [{"role": "user", "content": WORDS}],
        "stream": stream,
    }


async def test_a_stream_still_running_after_the_grace_period_ends_with_an_error_event(
    client: Client, engine: SigtermMidAnswer, sqlite_sessions: sessionmaker[Session]
) -> None:
    response = await client.post("/v1/chat/completions", json=chat(stream=True))
    assert response.status_code == 200
    payloads = sse_payloads(response.text)
    assert payloads[-1] == "[DONE]"
    error = json.loads(payloads[-2])["error"]
    assert error["code"] == "server_shutting_down"
    assert error["type"] == "server_error"
    assert "shutting down" in error["message"]
    text_sent = "".join(
        choice["delta"].get("content") or ""
        for payload in payloads[:-2]
        for choice in json.loads(payload)["choices"]
    )
    assert WORDS.startswith(text_sent)
    assert "three" not in text_sent, "nothing generated after the deadline reaches the client"
    request_id = response.headers["x-request-id"]
    assert request_id in engine.aborted, "the engine stopped generating for nobody"
    trail = records(sqlite_sessions, request_id)
    assert [record["kind"] for record in trail] == ["started", "failed"]
    assert trail[1]["status"] == 503
    assert json.loads(trail[1]["reasons"]) == ["server_shutting_down"]


async def test_a_stream_that_finishes_within_the_grace_period_is_completed(
    client: Client, engine: SigtermMidAnswer, sqlite_sessions: sessionmaker[Session]
) -> None:
    engine.grace = 60.0
    response = await client.post("/v1/chat/completions", json=chat(stream=True))
    payloads = sse_payloads(response.text)
    assert payloads[-1] == "[DONE]"
    assert not any('"error"' in payload for payload in payloads)
    trail = records(sqlite_sessions, response.headers["x-request-id"])
    assert [record["kind"] for record in trail] == ["started", "completed"]


async def test_an_unstreamed_answer_after_the_grace_period_is_a_503(
    client: Client, engine: SigtermMidAnswer, sqlite_sessions: sessionmaker[Session]
) -> None:
    response = await client.post("/v1/chat/completions", json=chat(stream=False))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "server_shutting_down"
    trail = records(sqlite_sessions, response.headers["x-request-id"])
    assert [record["kind"] for record in trail] == ["started", "failed"]
