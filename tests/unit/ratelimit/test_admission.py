"""After admission: tokens settle to real usage, slots come back however a request ends."""

from __future__ import annotations

import anyio
import pytest

from gateway.errors import RateLimitedError
from gateway.ratelimit import Quota, QuotaScope, RateLimiter
from tests.unit.ratelimit.clock import FakeClock

pytestmark = pytest.mark.anyio

TOKENS = [QuotaScope("tenant", "acme", Quota(tokens_per_minute=1000))]
ONE_SLOT = [QuotaScope("tenant", "acme", Quota(concurrent=1))]


async def remaining_tokens(limiter: RateLimiter) -> int:
    probe = await limiter.admit("probe", TOKENS, 0)
    return int(probe.headers["x-ratelimit-remaining-tokens"])


async def slot_is_free(limiter: RateLimiter) -> bool:
    try:
        probe = await limiter.admit("probe", ONE_SLOT, 0)
    except RateLimitedError:
        return False
    await probe.release()
    return True


async def test_settling_gives_back_the_unused_part_of_the_estimate(limiter: RateLimiter) -> None:
    admission = await limiter.admit("req", TOKENS, 600)
    assert await remaining_tokens(limiter) == 400
    await admission.settle(150)
    assert await remaining_tokens(limiter) == 850


async def test_settling_twice_counts_once(limiter: RateLimiter) -> None:
    admission = await limiter.admit("req", TOKENS, 600)
    await admission.settle(150)
    await admission.settle(0)
    assert await remaining_tokens(limiter) == 850


async def test_a_negative_usage_never_gives_back_more_than_was_reserved(
    limiter: RateLimiter,
) -> None:
    await limiter.admit("other", TOKENS, 100)
    admission = await limiter.admit("req", TOKENS, 300)
    await admission.settle(-50)
    assert await remaining_tokens(limiter) == 900


async def test_usage_beyond_the_estimate_is_charged(limiter: RateLimiter) -> None:
    admission = await limiter.admit("req", TOKENS, 100)
    await admission.settle(250)
    assert await remaining_tokens(limiter) == 750


async def test_a_refund_never_lands_in_a_later_minute(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    admission = await limiter.admit("req", TOKENS, 900)
    clock.advance(50)  # the reservation's minute is over
    await admission.settle(0)
    assert await remaining_tokens(limiter) == 1000  # not 1900: no credit carried over


async def test_release_frees_the_slot_and_is_idempotent(limiter: RateLimiter) -> None:
    two_slots = [QuotaScope("tenant", "acme", Quota(concurrent=2))]
    first = await limiter.admit("first", two_slots, 0)
    await limiter.admit("second", two_slots, 0)
    await first.release()
    await first.release()  # must not free "second"'s slot
    await limiter.admit("third", two_slots, 0)
    with pytest.raises(RateLimitedError):
        await limiter.admit("fourth", two_slots, 0)


async def test_release_after_settle_still_frees_the_slot(limiter: RateLimiter) -> None:
    admission = await limiter.admit("req", ONE_SLOT, 0)
    await admission.settle(0)
    assert not await slot_is_free(limiter)
    await admission.release()
    assert await slot_is_free(limiter)


async def test_an_error_inside_the_block_frees_the_slot(limiter: RateLimiter) -> None:
    async def serve_with_failing_engine() -> None:
        async with await limiter.admit("req", ONE_SLOT, 0):
            assert not await slot_is_free(limiter)
            raise RuntimeError("engine failed")

    with pytest.raises(RuntimeError, match="engine failed"):
        await serve_with_failing_engine()
    assert await slot_is_free(limiter)


async def test_a_client_disconnect_settles_and_frees_the_slot(limiter: RateLimiter) -> None:
    """The handler's task is cancelled mid-stream (as Litestar does on disconnect)."""
    scopes = [QuotaScope("tenant", "acme", Quota(tokens_per_minute=1000, concurrent=1))]
    streamed = 0

    async def stream_until_cancelled() -> None:
        nonlocal streamed
        admission = await limiter.admit("streaming", scopes, 500)
        async with admission:
            try:
                for _ in range(100):
                    streamed += 10
                    await anyio.sleep(0.01)
            finally:
                await admission.settle(streamed)

    async with anyio.create_task_group() as group:
        group.start_soon(stream_until_cancelled)
        await anyio.sleep(0.055)
        group.cancel_scope.cancel()

    assert 0 < streamed < 500
    after = await limiter.admit("after", scopes, 0)  # the slot is free again
    assert after.headers["x-ratelimit-remaining-tokens"] == str(1000 - streamed)


async def test_a_slot_never_released_expires_after_its_ttl(limiter: RateLimiter) -> None:
    await limiter.admit("forgotten", ONE_SLOT, 0)  # slot_ttl_seconds=1 in this fixture
    assert not await slot_is_free(limiter)
    await anyio.sleep(1.1)
    assert await slot_is_free(limiter)


async def test_keep_alive_holds_a_long_stream_past_its_ttl(limiter: RateLimiter) -> None:
    admission = await limiter.admit("long-stream", ONE_SLOT, 0)
    for _ in range(3):
        await anyio.sleep(0.5)
        await admission.keep_alive()
    assert not await slot_is_free(limiter)  # 1.5 s later, still held
    await anyio.sleep(1.1)
    assert await slot_is_free(limiter)
