"""Quotas on the shared Redis: every replica sees the same counters, slots and refunds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
import redis

from gateway.errors import RateLimitedError
from gateway.ratelimit import Admission, Quota, QuotaScope, RateLimiter
from tests.integration.ratelimit.conftest import OpenLimiter
from tests.unit.ratelimit.clock import FakeClock

pytestmark = pytest.mark.anyio

PROMPT_TOKENS = 40
MAX_TOKENS = 200
CHUNK_TOKENS = 10


def tenant(name: str, **quota: int) -> QuotaScope:
    return QuotaScope("tenant", name, Quota(**quota))


def department(name: str, **quota: int) -> QuotaScope:
    return QuotaScope("department", name, Quota(**quota))


async def count_admitted(limiter: RateLimiter, scopes: list[QuotaScope], attempts: int) -> int:
    admitted = 0
    for attempt in range(attempts):
        try:
            await limiter.admit(f"{scopes[0].name}-{attempt}", scopes, 0)
            admitted += 1
        except RateLimitedError:
            pass
    return admitted


async def test_replicas_share_one_counter_and_report_the_same_headers(
    open_limiter: OpenLimiter,
) -> None:
    first, second = await open_limiter(), await open_limiter()
    scopes = [tenant("acme", requests_per_minute=10, tokens_per_minute=1000)]
    await first.admit("on-first", scopes, 300)
    on_second = await second.admit("on-second", scopes, 300)
    assert on_second.headers["x-ratelimit-remaining-requests"] == "8"
    assert on_second.headers["x-ratelimit-remaining-tokens"] == "400"


async def test_a_tenant_flooding_one_replica_leaves_another_tenant_untouched(
    open_limiter: OpenLimiter,
) -> None:
    first, second = await open_limiter(), await open_limiter()
    quota = {"requests_per_minute": 20, "tokens_per_minute": 2000, "concurrent": 5}
    assert await count_admitted(first, [tenant("noisy", **quota)], 100) == 5  # slots held
    quiet = await second.admit("quiet-1", [tenant("quiet", **quota)], 100)
    assert quiet.headers["x-ratelimit-remaining-requests"] == "19"
    assert quiet.headers["x-ratelimit-remaining-tokens"] == "1900"


async def test_department_totals_cap_its_tenants_across_replicas(
    open_limiter: OpenLimiter,
) -> None:
    first, second = await open_limiter(), await open_limiter()
    research = department("research", requests_per_minute=12)
    on_first = await count_admitted(first, [tenant("ada", requests_per_minute=10), research], 10)
    on_second = await count_admitted(
        second, [tenant("grace", requests_per_minute=10), research], 10
    )
    assert (on_first, on_second) == (10, 2)


async def test_a_department_refusal_leaves_the_tenant_counters_as_they_were(
    open_limiter: OpenLimiter,
) -> None:
    limiter = await open_limiter()
    acme = tenant("acme", requests_per_minute=10, tokens_per_minute=1000, concurrent=3)
    research = department("research", tokens_per_minute=500)
    await limiter.admit("fits", [acme, research], 400)
    with pytest.raises(RateLimitedError, match="department tokens per minute"):
        await limiter.admit("too-much", [acme, research], 200)
    alone = await limiter.admit("tenant-only", [acme], 0)
    assert alone.headers["x-ratelimit-remaining-requests"] == "8"
    assert alone.headers["x-ratelimit-remaining-tokens"] == "600"


async def fake_stream(chunks: int) -> AsyncIterator[int]:
    """What the engine would stream: ``chunks`` deltas of CHUNK_TOKENS tokens each."""
    for _ in range(chunks):
        await anyio.sleep(0.005)
        yield CHUNK_TOKENS


async def serve_streaming(admission: Admission, chunks: int, abort_after: int | None) -> int:
    """The pipeline's part: stream, count, and settle whatever happened (abort included)."""
    completion_tokens = 0
    async with admission:
        try:
            async for tokens in fake_stream(chunks):
                completion_tokens += tokens
                if abort_after is not None and completion_tokens >= abort_after:
                    break  # the client stopped reading
        finally:
            await admission.settle(PROMPT_TOKENS + completion_tokens)
    return completion_tokens


async def test_streams_that_end_early_give_their_unused_tokens_back(
    open_limiter: OpenLimiter,
) -> None:
    first, second = await open_limiter(), await open_limiter()
    scopes = [tenant("acme", tokens_per_minute=1000, concurrent=2)]
    estimate = PROMPT_TOKENS + MAX_TOKENS

    full = await serve_streaming(await first.admit("full", scopes, estimate), 20, None)
    aborted = await serve_streaming(await second.admit("aborted", scopes, estimate), 20, 50)
    assert (full, aborted) == (200, 50)

    probe = await second.admit("probe", scopes, 0)
    used = (PROMPT_TOKENS + full) + (PROMPT_TOKENS + aborted)
    assert probe.headers["x-ratelimit-remaining-tokens"] == str(1000 - used)


async def test_a_disconnect_mid_stream_settles_and_frees_the_slot_on_redis(
    open_limiter: OpenLimiter,
) -> None:
    limiter = await open_limiter()
    scopes = [tenant("acme", tokens_per_minute=1000, concurrent=1)]
    streamed: list[int] = []
    midway = anyio.Event()

    async def handler() -> None:
        admission = await limiter.admit("disconnects", scopes, PROMPT_TOKENS + MAX_TOKENS)
        async with admission:
            completion_tokens = 0
            try:
                async for tokens in fake_stream(20):
                    completion_tokens += tokens
                    streamed.append(completion_tokens)
                    if len(streamed) == 5:
                        midway.set()
            finally:
                await admission.settle(PROMPT_TOKENS + completion_tokens)

    async with anyio.create_task_group() as group:
        group.start_soon(handler)
        with anyio.fail_after(5):
            await midway.wait()
        group.cancel_scope.cancel()  # what the server does when the client goes away

    probe = await limiter.admit("next", scopes, 0)  # the only slot is free again
    assert probe.headers["x-ratelimit-remaining-tokens"] == str(1000 - PROMPT_TOKENS - streamed[-1])


async def test_a_refund_never_lands_in_a_later_minute_on_redis(
    open_limiter: OpenLimiter, clock: FakeClock
) -> None:
    limiter = await open_limiter()
    scopes = [tenant("acme", tokens_per_minute=1000)]
    admission = await limiter.admit("late-settle", scopes, 800)
    clock.advance(60)
    await admission.settle(0)
    probe = await limiter.admit("probe", scopes, 0)
    assert probe.headers["x-ratelimit-remaining-tokens"] == "1000"


async def test_every_key_expires_on_its_own(
    open_limiter: OpenLimiter, redis_url: str, key_prefix: str
) -> None:
    limiter = await open_limiter(slot_ttl_seconds=30)
    quota = Quota(requests_per_minute=5, tokens_per_minute=100, concurrent=2, burst=3)
    await limiter.admit("req", [QuotaScope("tenant", "acme", quota)], 10)
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{key_prefix}:*"))
        ttls = {key.decode(): client.ttl(key) for key in keys}
    finally:
        client.close()
    assert len(ttls) == 4  # requests, burst, tokens, slots
    assert all(0 < ttl <= 120 for ttl in ttls.values()), ttls


async def test_keep_alive_extends_a_slot_for_every_replica(open_limiter: OpenLimiter) -> None:
    first, second = await open_limiter(slot_ttl_seconds=1), await open_limiter()
    one_slot = [tenant("acme", concurrent=1)]
    streaming = await first.admit("long-stream", one_slot, 0)
    for _ in range(3):
        await anyio.sleep(0.5)
        await streaming.keep_alive()
    with pytest.raises(RateLimitedError):
        await second.admit("waiting", one_slot, 0)
    await anyio.sleep(1.2)  # no more keep-alives: the slot expires
    await second.admit("after-expiry", one_slot, 0)
