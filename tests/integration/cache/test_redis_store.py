"""The Redis store against the real Redis: expiry by Redis, per-tenant bound, outages."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
import redis

from gateway.cache.redis_store import RedisCacheStore
from gateway.cache.store import CacheStoreError, open_cache_store

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store(redis_url: str, key_prefix: str) -> AsyncIterator[RedisCacheStore]:
    opened = open_cache_store(redis_url, key_prefix=key_prefix, max_entries=1, timeout_seconds=2)
    assert isinstance(opened, RedisCacheStore)
    yield opened
    await opened.close()


@pytest.fixture
def inspect(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


async def test_answers_round_trip_and_expire_through_redis(
    store: RedisCacheStore, inspect: redis.Redis
) -> None:
    await store.put("acme", "k1", b"answer", ttl_seconds=120, max_entries=10)
    assert await store.get("acme", "k1") == b"answer"
    assert await store.get("acme", "k2") is None
    assert 0 < inspect.ttl(store.entry_key("acme", "k1")) <= 120
    assert 0 < inspect.ttl(store.index_key("acme")) <= 120
    await store.put("acme", "brief", b"answer", ttl_seconds=1, max_entries=10)
    await anyio.sleep(1.2)
    assert await store.get("acme", "brief") is None
    assert inspect.zscore(store.index_key("acme"), "brief") is None, "dropped from the index"


async def test_tenants_are_kept_apart(store: RedisCacheStore) -> None:
    await store.put("acme", "k", b"acme's", ttl_seconds=60, max_entries=10)
    assert await store.get("globex", "k") is None
    assert store.entry_key("acme", "k") != store.entry_key("globex", "k")


async def test_a_tenant_keeps_its_most_recently_used_answers(
    store: RedisCacheStore, inspect: redis.Redis
) -> None:
    for key in ("a", "b", "c"):
        await store.put("acme", key, key.encode(), ttl_seconds=60, max_entries=3)
    await store.get("acme", "a")  # "b" is now the least recently used
    await store.put("acme", "d", b"d", ttl_seconds=60, max_entries=3)
    assert [await store.get("acme", key) for key in "abcd"] == [b"a", None, b"c", b"d"]
    assert not inspect.exists(store.entry_key("acme", "b")), "the evicted answer is deleted"
    assert inspect.zcard(store.index_key("acme")) == 3
    await store.put("globex", "g", b"g", ttl_seconds=60, max_entries=1)
    assert await store.get("acme", "a") == b"a", "another tenant's bound evicts nothing here"


async def test_an_unreachable_redis_is_a_store_error(key_prefix: str) -> None:
    dead = open_cache_store(
        "redis://127.0.0.1:1/0", key_prefix=key_prefix, max_entries=1, timeout_seconds=0.5
    )
    with pytest.raises(CacheStoreError):
        await dead.get("acme", "k")
    with pytest.raises(CacheStoreError):
        await dead.put("acme", "k", b"x", ttl_seconds=60, max_entries=10)
    await dead.close()
