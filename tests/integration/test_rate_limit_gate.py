"""Quotas from the policy, enforced in front of the engine, with OpenAI's rate-limit headers."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from gateway.policy.store import PolicyStore
from gateway.ratelimit.limiter import RateLimiter
from gateway.services import Services
from gateway.settings import Settings
from tests.support.echo_engine import ECHO_MODEL, EchoEngine
from tests.support.identity import TokenFactory
from tests.support.policies import default_policy_with_rates

pytestmark = pytest.mark.anyio

Client = AsyncTestClient  # type: ignore[type-arg]
ClientMaker = Callable[..., Awaitable[Client]]
CHAT = {"model": ECHO_MODEL, "messages": [{"role": "user", "content": "one two three four"}]}


def tight_policies(folder: Path, *, requests: int, tokens: int, burst: int) -> PolicyStore:
    """The shipped default policy with small per-tenant quotas (and no department files)."""
    rates = {"requests_per_minute": requests, "tokens_per_minute": tokens, "burst": burst}
    return PolicyStore.open(default_policy_with_rates(folder, tenant=rates))


@pytest.fixture
async def make_client(
    tmp_path: Path, settings: Settings, services: Services
) -> AsyncIterator[ClientMaker]:
    clients: list[Client] = []

    async def build(limiter: RateLimiter, **quota: int) -> Client:
        policies = tight_policies(tmp_path / f"policies{len(clients)}", **quota)
        app = create_app(
            settings, dataclasses.replace(services, policies=policies, limiter=limiter)
        )
        client = AsyncTestClient(app=app)
        await client.__aenter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        await client.__aexit__(None, None, None)


def bearer(tokens: TokenFactory, tenant: str) -> dict[str, str]:
    token, _ = tokens.issue(tenant, ("app",))
    return {"authorization": f"Bearer {token}"}


async def test_headers_on_every_answer_and_429_over_the_quota(
    make_client: ClientMaker,
    limiter: RateLimiter,
    tokens: TokenFactory,
    echo_engine: EchoEngine,
) -> None:
    client = await make_client(limiter, requests=3, tokens=100_000, burst=10)
    headers = bearer(tokens, "acme")
    remaining = []
    for _ in range(3):
        response = await client.post("/v1/chat/completions", json=CHAT, headers=headers)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit-requests"] == "3"
        assert "x-ratelimit-remaining-tokens" in response.headers
        remaining.append(int(response.headers["x-ratelimit-remaining-requests"]))
    assert remaining == [2, 1, 0]
    refused = await client.post("/v1/chat/completions", json=CHAT, headers=headers)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    error = refused.json()["error"]
    assert error["type"] == "rate_limit_error"
    assert "tenant" in error["message"]
    assert len(echo_engine.started) == 3, "a refused request never reaches the engine"


async def test_one_tenant_exhausting_its_quota_leaves_another_untouched(
    make_client: ClientMaker,
    limiter: RateLimiter,
    tokens: TokenFactory,
) -> None:
    client = await make_client(limiter, requests=2, tokens=100_000, burst=10)
    noisy, quiet = bearer(tokens, "noisy"), bearer(tokens, "quiet")
    statuses = [
        (await client.post("/v1/chat/completions", json=CHAT, headers=noisy)).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 429, 429]
    assert (await client.post("/v1/chat/completions", json=CHAT, headers=quiet)).status_code == 200


async def test_streams_carry_headers_and_give_back_unused_tokens(
    make_client: ClientMaker,
    limiter: RateLimiter,
    tokens: TokenFactory,
) -> None:
    client = await make_client(limiter, requests=100, tokens=500, burst=50)
    headers = bearer(tokens, "acme")
    body = {**CHAT, "stream": True, "max_tokens": 200}
    first = await client.post("/v1/chat/completions", json=body, headers=headers)
    assert first.status_code == 200
    assert first.headers["x-ratelimit-limit-tokens"] == "500"
    assert "data: [DONE]" in first.text
    # About 206 tokens were reserved and 10 used; without the refund only 88 would remain.
    second = await client.post(
        "/v1/chat/completions", json={**CHAT, "max_tokens": 200}, headers=headers
    )
    assert second.status_code == 200
    remaining = int(second.headers["x-ratelimit-remaining-tokens"])
    assert remaining >= 500 - 10 - 206, f"unused tokens were not given back: {remaining}"


async def test_token_estimate_over_the_quota_is_refused(
    make_client: ClientMaker,
    limiter: RateLimiter,
    tokens: TokenFactory,
) -> None:
    client = await make_client(limiter, requests=100, tokens=100, burst=50)
    response = await client.post(
        "/v1/chat/completions", json={**CHAT, "max_tokens": 200}, headers=bearer(tokens, "acme")
    )
    assert response.status_code == 429
    assert json.loads(response.text)["error"]["code"] == "rate_limit_exceeded"


async def test_unreachable_shared_store_fails_closed_with_503(
    make_client: ClientMaker,
    tokens: TokenFactory,
    echo_engine: EchoEngine,
) -> None:
    dead = await RateLimiter.connect("redis://127.0.0.1:1/0")
    try:
        client = await make_client(dead, requests=100, tokens=100_000, burst=50)
        response = await client.post(
            "/v1/chat/completions", json=CHAT, headers=bearer(tokens, "acme")
        )
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "rate_limit_store_unavailable"
        assert echo_engine.started == []
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["rate_limit_store"]["ready"] is False
    finally:
        await dead.close()
