"""The response cache through the whole app: hits skip the engine, never the gates."""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from gateway.app import create_app
from gateway.policy.store import PolicyStore
from gateway.services import Services
from gateway.settings import Settings
from tests.support.echo_engine import ECHO_MODEL, EchoEngine
from tests.support.identity import TokenFactory
from tests.support.policies import default_policy_with_rates

pytestmark = pytest.mark.anyio

Client = AsyncTestClient  # type: ignore[type-arg]
ClientMaker = Callable[..., Awaitable[Client]]
REPO = Path(__file__).resolve().parents[3]
CACHE_ON = "\ncache: {enabled: true, ttl_seconds: 60, max_entries: 50}\n"


def chat(content: str, **extra: object) -> dict[str, object]:
    return {"model": ECHO_MODEL, "messages": [{"role": "user", "content": content}], **extra}


def shipped_policies_caching(folder: Path) -> Path:
    """The shipped policies with the cache on for engineering and research."""
    shutil.copytree(REPO / "policies", folder)
    for department in ("engineering", "research"):
        with (folder / f"{department}.yaml").open("a") as policy:
            policy.write(CACHE_ON)
    return folder


@pytest.fixture
async def make_client(
    tmp_path: Path, settings: Settings, services: Services
) -> AsyncIterator[ClientMaker]:
    """Apps over the echo engine with the given policy folder and cache settings."""
    clients: list[Client] = []

    async def build(policies: Path | None = None, **cache_settings: Any) -> Client:
        folder = policies or shipped_policies_caching(tmp_path / "policies")
        app = create_app(
            dataclasses.replace(settings, **cache_settings),
            dataclasses.replace(services, policies=PolicyStore.open(folder)),
        )
        client = AsyncTestClient(app=app)
        await client.__aenter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.__aexit__(None, None, None)


def bearer(tokens: TokenFactory, tenant: str, department: str = "engineering") -> dict[str, str]:
    tokens.add_tenant(tenant, department)
    token, _ = tokens.issue(tenant, ("app",))
    return {"authorization": f"Bearer {token}"}


def answer(response: Any) -> tuple[Any, Any]:
    body = response.json()
    return body["choices"], body["usage"]


def cache_count(services: Services, result: str, department: str = "engineering") -> float:
    labels = {"result": result, "department": department}
    value = services.metrics.registry.get_sample_value("enclave_cache_requests_total", labels)
    return value or 0.0


async def test_a_repeated_greedy_request_is_answered_without_the_engine(
    make_client: ClientMaker, tokens: TokenFactory, echo_engine: EchoEngine, services: Services
) -> None:
    client = await make_client()
    headers = bearer(tokens, "acme")
    body = chat("tell me about the sea", temperature=0, max_tokens=8)
    first = await client.post("/v1/chat/completions", json=body, headers=headers)
    second = await client.post("/v1/chat/completions", json=body, headers=headers)
    assert (first.status_code, second.status_code) == (200, 200)
    assert first.headers["x-enclave-cache"] == "miss"
    assert second.headers["x-enclave-cache"] == "hit"
    assert answer(second) == answer(first)
    assert second.json()["id"] != first.json()["id"]
    assert len(echo_engine.started) == 1, "the engine was not called the second time"
    assert (cache_count(services, "miss"), cache_count(services, "hit")) == (1, 1)


async def test_sampled_requests_are_never_cached_but_seeded_ones_are(
    make_client: ClientMaker, tokens: TokenFactory, echo_engine: EchoEngine
) -> None:
    client = await make_client()
    headers = bearer(tokens, "acme")
    sampled = chat("a b c", temperature=0.7)
    for _ in range(2):
        response = await client.post("/v1/chat/completions", json=sampled, headers=headers)
        assert response.headers["x-enclave-cache"] == "bypass"
    assert len(echo_engine.started) == 2
    seeded = chat("a b c", temperature=0.7, seed=11)
    outcomes = [
        (await client.post("/v1/chat/completions", json=body, headers=headers)).headers[
            "x-enclave-cache"
        ]
        for body in (seeded, seeded, {**seeded, "seed": 12}, {**seeded, "max_tokens": 2})
    ]
    assert outcomes == ["miss", "hit", "miss", "miss"]


async def test_one_tenant_never_gets_another_tenants_answer(
    make_client: ClientMaker, tokens: TokenFactory, echo_engine: EchoEngine
) -> None:
    client = await make_client()
    body = chat("quarterly numbers please", temperature=0)
    acme, globex = bearer(tokens, "acme"), bearer(tokens, "globex")
    outcomes = []
    for headers in (acme, globex, acme, globex):
        response = await client.post("/v1/chat/completions", json=body, headers=headers)
        outcomes.append(response.headers["x-enclave-cache"])
    assert outcomes == ["miss", "miss", "hit", "hit"]
    assert len(echo_engine.started) == 2


async def test_departments_whose_policy_leaves_the_cache_off_are_not_cached(
    make_client: ClientMaker, tokens: TokenFactory, echo_engine: EchoEngine
) -> None:
    client = await make_client()
    headers = bearer(tokens, "sales-app", department="sales")  # default policy: cache off
    body = chat("hello there", temperature=0)
    for _ in range(2):
        response = await client.post("/v1/chat/completions", json=body, headers=headers)
        assert response.status_code == 200
        assert "x-enclave-cache" not in response.headers
    assert len(echo_engine.started) == 2


async def test_streams_replay_a_cached_answer_and_store_their_own(
    make_client: ClientMaker, tokens: TokenFactory, echo_engine: EchoEngine
) -> None:
    client = await make_client()
    headers = bearer(tokens, "acme")
    body = chat("one two three four five", temperature=0, stream=True)
    streamed = await client.post("/v1/chat/completions", json=body, headers=headers)
    whole = await client.post(
        "/v1/chat/completions", json={**body, "stream": False}, headers=headers
    )
    replayed = await client.post("/v1/chat/completions", json=body, headers=headers)
    assert [r.headers["x-enclave-cache"] for r in (streamed, whole, replayed)] == [
        "miss",
        "hit",
        "hit",
    ]
    assert sse_text(replayed.text) == sse_text(streamed.text) == "one two three four five"
    assert whole.json()["choices"][0]["message"]["content"] == "one two three four five"
    assert replayed.text.endswith("data: [DONE]\n\n")
    assert '"finish_reason":"stop"' in replayed.text
    assert len(echo_engine.started) == 1


def sse_text(events: str) -> str:
    chunks = [json.loads(line[6:]) for line in events.splitlines() if line.startswith("data: {")]
    return "".join(
        choice["delta"].get("content") or "" for chunk in chunks for choice in chunk["choices"]
    )


async def test_choices_and_logprobs_come_back_from_the_cache(
    make_client: ClientMaker, tokens: TokenFactory, echo_engine: EchoEngine
) -> None:
    client = await make_client()
    headers = bearer(tokens, "lab", department="research")  # no output rules: logprobs allowed
    body = chat("red green blue", temperature=0, n=2, logprobs=True, top_logprobs=2)
    first = await client.post("/v1/chat/completions", json=body, headers=headers)
    second = await client.post("/v1/chat/completions", json=body, headers=headers)
    assert second.headers["x-enclave-cache"] == "hit"
    choices, usage = answer(second)
    assert (choices, usage) == answer(first)
    assert [len(choice["logprobs"]["content"]) for choice in choices] == [3, 3]
    assert len(choices[0]["logprobs"]["content"][0]["top_logprobs"]) == 2
    fewer = await client.post(
        "/v1/chat/completions", json={**body, "top_logprobs": 1}, headers=headers
    )
    assert fewer.headers["x-enclave-cache"] == "miss"
    assert len(echo_engine.started) == 2


def audit_rows(sessions: sessionmaker[Session], request_id: str) -> list[dict[str, Any]]:
    query = text(
        "SELECT kind, status, detail, engine_us, prompt_tokens, completion_tokens"
        " FROM audit_events WHERE request_id = :id ORDER BY id"
    )
    with sessions() as session:
        return [dict(row._mapping) for row in session.execute(query, {"id": request_id})]


async def test_a_hit_is_rate_limited_settled_and_audited_as_a_hit(
    make_client: ClientMaker,
    tokens: TokenFactory,
    tmp_path: Path,
    sqlite_sessions: sessionmaker[Session],
) -> None:
    folder = default_policy_with_rates(
        tmp_path / "tight", tenant={"requests_per_minute": 3, "tokens_per_minute": 1000}
    )
    with (folder / "default.yaml").open("a") as policy:
        policy.write(CACHE_ON)
    client = await make_client(folder)
    headers = bearer(tokens, "acme", department="sales")
    body = chat("one two three", temperature=0, max_tokens=8)  # 4 prompt, 3 completion tokens
    responses = [
        await client.post("/v1/chat/completions", json=body, headers=headers) for _ in range(4)
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers.get("x-enclave-cache") for r in responses[:3]] == ["miss", "hit", "hit"]
    # The third request's reservation (4 + 8) comes after two settled at their real 7 tokens.
    assert responses[2].headers["x-ratelimit-remaining-tokens"] == str(1000 - 7 - 7 - 12)
    miss, hit = (audit_rows(sqlite_sessions, r.headers["x-request-id"]) for r in responses[:2])
    assert [row["kind"] for row in hit] == ["started", "completed"]
    assert json.loads(hit[1]["detail"]) == {"cache": "hit"}
    assert hit[1]["engine_us"] == 0
    assert (hit[1]["prompt_tokens"], hit[1]["completion_tokens"]) == (4, 3)
    assert json.loads(miss[1]["detail"]) == {"cache": "miss"}
    assert miss[1]["engine_us"] > 0
    refused = audit_rows(sqlite_sessions, responses[3].headers["x-request-id"])
    assert [row["kind"] for row in refused] == ["refused"]


async def test_an_unreachable_cache_store_only_costs_the_hit(
    make_client: ClientMaker, tokens: TokenFactory, echo_engine: EchoEngine, services: Services
) -> None:
    client = await make_client(cache_storage="redis://127.0.0.1:1/0")
    headers = bearer(tokens, "acme")
    body = chat("still answered", temperature=0)
    for _ in range(2):
        response = await client.post("/v1/chat/completions", json=body, headers=headers)
        assert response.status_code == 200
        assert response.headers["x-enclave-cache"] == "miss"
        assert response.json()["choices"][0]["message"]["content"] == "still answered"
    assert len(echo_engine.started) == 2
    assert cache_count(services, "store_error") == 2
