"""Personal data and the cache: stored answers hold placeholders, never a caller's values."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from gateway.policy.store import PolicyStore
from gateway.services import Services
from gateway.settings import Settings
from tests.support.echo_engine import ECHO_MODEL, EchoEngine
from tests.support.identity import TokenFactory

pytestmark = pytest.mark.anyio

Client = AsyncTestClient  # type: ignore[type-arg]
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
async def client(
    tmp_path: Path,
    settings: Settings,
    services: Services,
    redis_url: str,
    key_prefix: str,
    tokens: TokenFactory,
) -> AsyncIterator[Client]:
    """Engineering (employee IDs pseudonymized, IP addresses redacted in answers) with the
    cache on, kept in the real Redis."""
    folder = tmp_path / "policies"
    shutil.copytree(REPO / "policies", folder)
    with (folder / "engineering.yaml").open("a") as policy:
        policy.write("\ncache: {enabled: true}\n")
    cached = dataclasses.replace(settings, cache_storage=redis_url, cache_key_prefix=key_prefix)
    app = create_app(cached, dataclasses.replace(services, policies=PolicyStore.open(folder)))
    tokens.add_tenant("acme", "engineering")
    token, _ = tokens.issue("acme", ("app",))
    async with AsyncTestClient(app=app) as test_client:
        test_client.headers["authorization"] = f"Bearer {token}"
        yield test_client


def stored_values(redis_url: str, key_prefix: str) -> list[bytes]:
    inspect = redis.Redis.from_url(redis_url)
    try:
        keys = [
            key for key in inspect.scan_iter(match=f"{key_prefix}:cache:*") if b"lru" not in key
        ]
        return [value for key in keys if (value := inspect.get(key)) is not None]
    finally:
        inspect.close()


async def ask(client: Client, content: str) -> tuple[str, str]:
    body = {"model": ECHO_MODEL, "messages": [{"role": "user", "content": content}]}
    response = await client.post("/v1/chat/completions", json={**body, "temperature": 0})
    assert response.status_code == 200
    return response.headers["x-enclave-cache"], response.json()["choices"][0]["message"]["content"]


async def test_each_hit_restores_its_own_callers_values_and_redis_holds_none(
    client: Client, echo_engine: EchoEngine, redis_url: str, key_prefix: str
) -> None:
    first = await ask(client, "badge EMP-111111 cannot reach 10.20.30.40 today")
    second = await ask(client, "badge EMP-222222 cannot reach 10.20.30.40 today")
    assert first == ("miss", "badge EMP-111111 cannot reach <IP_ADDRESS> today")
    assert second == ("hit", "badge EMP-222222 cannot reach <IP_ADDRESS> today")
    assert len(echo_engine.started) == 1, "both prompts are the same once pseudonymized"
    values = stored_values(redis_url, key_prefix)
    assert len(values) == 1
    assert b"<EMPLOYEE_ID_1>" in values[0]
    assert b"<IP_ADDRESS>" in values[0], "stored after output redaction"
    for raw in (b"EMP-111111", b"EMP-222222", b"10.20.30.40"):
        assert raw not in values[0]
