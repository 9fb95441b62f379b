"""The in-process store: TTL, a least-recently-used bound per tenant and for the process."""

from __future__ import annotations

import pytest

from gateway.cache.memory import MemoryCacheStore
from tests.unit.ratelimit.clock import FakeClock

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def test_an_answer_is_served_until_its_ttl_ends(clock: FakeClock) -> None:
    store = MemoryCacheStore(max_entries=10, clock=clock)
    await store.put("acme", "k", b"answer", ttl_seconds=30, max_entries=10)
    clock.advance(29.9)
    assert await store.get("acme", "k") == b"answer"
    clock.advance(0.1)
    assert await store.get("acme", "k") is None
    assert len(store) == 0, "an expired answer is dropped when it is read"


async def test_tenants_never_read_each_others_answers(clock: FakeClock) -> None:
    store = MemoryCacheStore(max_entries=10, clock=clock)
    await store.put("acme", "k", b"acme's", ttl_seconds=30, max_entries=10)
    assert await store.get("globex", "k") is None
    await store.put("globex", "k", b"globex's", ttl_seconds=30, max_entries=10)
    assert await store.get("acme", "k") == b"acme's"
    assert await store.get("globex", "k") == b"globex's"


async def test_a_tenant_keeps_its_most_recently_used_answers(clock: FakeClock) -> None:
    store = MemoryCacheStore(max_entries=100, clock=clock)
    for key in ("a", "b", "c"):
        await store.put("acme", key, key.encode(), ttl_seconds=30, max_entries=3)
    await store.get("acme", "a")  # "b" is now the least recently used
    await store.put("acme", "d", b"d", ttl_seconds=30, max_entries=3)
    assert [await store.get("acme", key) for key in "abcd"] == [b"a", None, b"c", b"d"]


async def test_one_busy_tenant_does_not_push_out_another(clock: FakeClock) -> None:
    store = MemoryCacheStore(max_entries=100, clock=clock)
    await store.put("quiet", "q", b"q", ttl_seconds=30, max_entries=2)
    for number in range(50):
        await store.put("busy", str(number), b"x", ttl_seconds=30, max_entries=2)
    assert await store.get("quiet", "q") == b"q"
    assert len(store) == 3


async def test_the_process_bound_holds_across_tenants(clock: FakeClock) -> None:
    store = MemoryCacheStore(max_entries=4, clock=clock)
    for number in range(6):
        await store.put(f"tenant-{number}", "k", b"x", ttl_seconds=30, max_entries=10)
    assert len(store) == 4
    assert await store.get("tenant-0", "k") is None
    assert await store.get("tenant-1", "k") is None
    assert await store.get("tenant-5", "k") == b"x"


async def test_storing_again_refreshes_the_answer_and_its_ttl(clock: FakeClock) -> None:
    store = MemoryCacheStore(max_entries=10, clock=clock)
    await store.put("acme", "k", b"old", ttl_seconds=10, max_entries=10)
    clock.advance(8)
    await store.put("acme", "k", b"new", ttl_seconds=10, max_entries=10)
    clock.advance(8)
    assert await store.get("acme", "k") == b"new"
    assert len(store) == 1
