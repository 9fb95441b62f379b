"""Bad input and oversized requests are refused before any analysis, in OpenAI's envelope, audited.

What is refused here never reaches the PII analyzer, the tokenizer or the engine.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from gateway.redaction.analyzer import PiiAnalyzer
from gateway.settings import Settings
from tests.support.echo_engine import ECHO_MODEL, EchoEngine

pytestmark = pytest.mark.anyio

Client = AsyncTestClient  # type: ignore[type-arg]
CHAT = "/v1/chat/completions"
JSON = {"content-type": "application/json"}


BODY_TIMEOUT_SECONDS = 0.5


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The integration settings (64 KiB bodies) with a short body deadline."""
    return dataclasses.replace(settings, body_timeout_seconds=BODY_TIMEOUT_SECONDS)


@dataclass
class Untouched:
    """Records whether a refused request reached the analyzer, the tokenizer or the engine."""

    engine: EchoEngine
    analyzed: list[object] = field(default_factory=list)

    def assert_nothing_ran(self) -> None:
        assert self.analyzed == [], "the PII analyzer saw the request"
        assert self.engine.vocabulary == [], "the tokenizer saw the request"
        assert self.engine.started == [], "the engine saw the request"


@pytest.fixture
def untouched(
    pii_analyzer: PiiAnalyzer, echo_engine: EchoEngine, monkeypatch: pytest.MonkeyPatch
) -> Untouched:
    spy = Untouched(echo_engine)
    real = pii_analyzer.redact_input

    async def recording(*args: Any, **kwargs: Any) -> Any:
        spy.analyzed.append(args)
        return await real(*args, **kwargs)

    monkeypatch.setattr(pii_analyzer, "redact_input", recording)
    return spy


@pytest.fixture
async def streaming(client: Client) -> AsyncIterator[httpx.AsyncClient]:
    """The same app and token through httpx's ASGI transport, which hands a body over chunk
    by chunk as a server does (the test client reads it whole before calling the app)."""
    transport = httpx.ASGITransport(app=client.app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://gateway", headers=client.headers
    ) as streaming_client:
        yield streaming_client


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) - {"explanation"} == {"message", "type", "param", "code"}
    error: dict[str, Any] = body["error"]
    return error


def audit_events(sessions: sessionmaker[Session], request_id: str) -> list[dict[str, Any]]:
    query = text("SELECT kind, status, reasons FROM audit_events WHERE request_id = :id")
    with sessions() as session:
        rows = session.execute(query, {"id": request_id})
        return [{**row._mapping, "reasons": json.loads(row.reasons)} for row in rows]


def chat_bytes(content: bytes) -> bytes:
    """A chat body with ``content`` spliced in raw, as the JSON string of the one message."""
    return b'{"model": "%s", "messages": [{"role": "user", "content": "%s"}]}' % (
        ECHO_MODEL.encode(),
        content,
    )


# --- text the gateway refuses before any analysis -------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b"caf\xe9", b"\xff\xfe", b"\xed\xa0\x80 (an encoded surrogate)", b"\xc0\x80 (overlong NUL)"],
)
async def test_invalid_utf8_is_400_before_any_analysis(
    client: Client, untouched: Untouched, content: bytes
) -> None:
    response = await client.post(CHAT, content=chat_bytes(content), headers=JSON)
    error = error_of(response, 400)
    assert error["code"] == "invalid_encoding"
    assert "UTF-8" in error["message"]
    untouched.assert_nothing_ran()


@pytest.mark.parametrize(
    "escape", [rb"\ud800", rb"\udfff", rb"\ud800x", rb"x\udc00\ud800", rb"\ud800\u0041"]
)
async def test_lone_surrogate_escapes_are_400_before_any_analysis(
    client: Client, untouched: Untouched, escape: bytes
) -> None:
    response = await client.post(CHAT, content=chat_bytes(escape), headers=JSON)
    error = error_of(response, 400)
    assert error["code"] == "invalid_encoding"
    assert "surrogate" in error["message"]
    untouched.assert_nothing_ran()


async def test_a_surrogate_pair_is_ordinary_text(client: Client) -> None:
    response = await client.post(CHAT, content=chat_bytes(rb"smile \ud83d\ude00"), headers=JSON)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "smile \N{GRINNING FACE}"


@pytest.mark.parametrize(
    ("route", "body", "param"),
    [
        (CHAT, {"messages": [{"role": "user", "content": "a\x00b"}]}, "messages[0].content"),
        (
            CHAT,
            {"messages": [{"role": "user", "content": [{"type": "text", "text": "\x00"}]}]},
            "messages[0].content[0].text",
        ),
        (
            CHAT,
            {"messages": [{"role": "user", "content": "hi", "name": "a\x00"}]},
            "messages[0].name",
        ),
        (CHAT, {"messages": [{"role": "user", "content": "hi"}], "stop": ["\x00"]}, "stop[0]"),
        ("/v1/completions", {"prompt": "say \x00 this"}, "prompt"),
        ("/v1/completions", {"prompt": ["\x00"]}, "prompt[0]"),
    ],
)
async def test_nul_characters_are_400_naming_the_field(
    client: Client, untouched: Untouched, route: str, body: dict[str, Any], param: str
) -> None:
    response = await client.post(route, json={"model": ECHO_MODEL, **body})
    error = error_of(response, 400)
    assert (error["code"], error["param"]) == ("invalid_character", param)
    untouched.assert_nothing_ran()


async def test_bad_text_refusals_are_audited(
    client: Client, sqlite_sessions: sessionmaker[Session]
) -> None:
    bodies = [chat_bytes(b"\xff"), chat_bytes(rb"\u0000"), chat_bytes(rb"\ud800")]
    reasons = []
    for body in bodies:
        response = await client.post(CHAT, content=body, headers=JSON)
        (record,) = audit_events(sqlite_sessions, response.headers["x-request-id"])
        assert (record["kind"], record["status"]) == ("refused", 400)
        reasons.append(record["reasons"])
    assert reasons == [["invalid_encoding"], ["invalid_character"], ["invalid_encoding"]]


# --- nesting -----------------------------------------------------------------------------------

DEPTH = 5_000  # deeper than a recursive decoder survives (Python stops at 1,000); under 64 KiB


@pytest.mark.parametrize(
    "body",
    [
        b"[" * DEPTH + b"]" * DEPTH,
        b'{"model": "m", "messages": ' + b"[" * DEPTH + b"]" * DEPTH + b"}",
        b'{"model": "m", "tools": ' + b'{"a": ' * DEPTH + b"1" + b"}" * DEPTH + b"}",
        chat_bytes(b"x")[:-1] + b', "stop": ' + b"[" * DEPTH + b"]" * DEPTH + b"}",
        b'{"model": "m", "messages": [{"role": "user", "content": [' + b"[" * DEPTH + b"]]}]}",
    ],
    ids=["top", "messages", "unknown-field", "stop", "content-parts"],
)
async def test_deeply_nested_json_is_400_and_nothing_breaks(
    client: Client, untouched: Untouched, body: bytes
) -> None:
    response = await client.post(CHAT, content=body, headers=JSON)
    assert response.status_code == 400, response.text
    error_of(response, 400)
    untouched.assert_nothing_ran()
    answer = await client.post(
        CHAT, json={"model": ECHO_MODEL, "messages": [{"role": "user", "content": "still here"}]}
    )
    assert answer.json()["choices"][0]["message"]["content"] == "still here"


# --- body size -----------------------------------------------------------------------------------


async def chunks(total: int, size: int = 8192) -> AsyncIterator[bytes]:
    """A chat body of about ``total`` bytes, sent chunked (no content-length)."""
    prefix = b'{"model": "%s", "messages": [{"role": "user", "content": "' % ECHO_MODEL.encode()
    yield prefix
    sent = len(prefix)
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}]}'


async def test_a_chunked_upload_over_the_limit_is_413_and_audited(
    streaming: httpx.AsyncClient, untouched: Untouched, sqlite_sessions: sessionmaker[Session]
) -> None:
    response = await streaming.post(CHAT, content=chunks(200_000), headers=JSON)
    assert "content-length" not in response.request.headers
    error = error_of(response, 413)
    assert error["code"] == "request_too_large"
    (record,) = audit_events(sqlite_sessions, response.headers["x-request-id"])
    assert (record["kind"], record["status"]) == ("refused", 413)
    untouched.assert_nothing_ran()


async def test_a_chunked_upload_under_the_limit_is_answered(streaming: httpx.AsyncClient) -> None:
    response = await streaming.post(CHAT, content=chunks(20_000), headers=JSON)
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"].startswith("xxxx")


async def test_an_announced_length_over_the_limit_is_413_and_audited(
    client: Client, sqlite_sessions: sessionmaker[Session]
) -> None:
    body = chat_bytes(b"y" * 70_000)
    response = await client.post(CHAT, content=body, headers=JSON)
    assert int(response.request.headers["content-length"]) == len(body)
    error_of(response, 413)
    (record,) = audit_events(sqlite_sessions, response.headers["x-request-id"])
    assert (record["kind"], record["status"]) == ("refused", 413)


# --- slow bodies -----------------------------------------------------------------------------


async def slow_body() -> AsyncIterator[bytes]:
    """Half a body, then a pause far longer than the body deadline."""
    yield b'{"model": "%s", "messages": [{"role": "user", ' % ECHO_MODEL.encode()
    await anyio.sleep(BODY_TIMEOUT_SECONDS * 20)
    yield b'"content": "too late"}]}'


async def test_a_body_slower_than_the_deadline_is_408_and_audited(
    streaming: httpx.AsyncClient, untouched: Untouched, sqlite_sessions: sessionmaker[Session]
) -> None:
    response = await streaming.post(CHAT, content=slow_body(), headers=JSON)
    error = error_of(response, 408)
    assert error["code"] == "request_timeout"
    assert response.headers["connection"] == "close"
    (record,) = audit_events(sqlite_sessions, response.headers["x-request-id"])
    assert (record["kind"], record["status"], record["reasons"]) == (
        "refused",
        408,
        ["request_timeout"],
    )
    untouched.assert_nothing_ran()
