"""When the shared store is unreachable: refuse with 503 (fail closed), quickly, and recover.

"Redis down" is simulated with a closed port or a proxy the test cuts; the real server,
which other tests share, keeps running.
"""

from __future__ import annotations

import socket
import time
from collections import Counter

import anyio
import pytest

from gateway.errors import RateLimitedError, ServiceUnavailableError
from gateway.ratelimit import Quota, QuotaScope, RateLimiter
from tests.integration.ratelimit.conftest import OpenLimiter
from tests.integration.ratelimit.tcp_proxy import TcpProxy

pytestmark = pytest.mark.anyio

SCOPES = [QuotaScope("tenant", "acme", Quota(requests_per_minute=1000, concurrent=50))]
# Socket timeout 0.5 s, one retry: a dead Redis costs a request about a second at most.
MOST_A_REFUSAL_MAY_TAKE = 1.5


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # nothing listens here any more


async def outcome(limiter: RateLimiter, request_id: str) -> str:
    try:
        admission = await limiter.admit(request_id, SCOPES, 0)
    except ServiceUnavailableError:
        return "503"
    except RateLimitedError:
        return "429"
    await admission.release()
    return "admitted"


async def test_an_unreachable_store_refuses_with_503_at_once(open_limiter: OpenLimiter) -> None:
    limiter = await open_limiter(closed_port_url())
    started = time.monotonic()
    with pytest.raises(ServiceUnavailableError) as refusal:
        await limiter.admit("req", SCOPES, 10)
    assert time.monotonic() - started < MOST_A_REFUSAL_MAY_TAKE
    assert refusal.value.status_code == 503
    assert refusal.value.code == "rate_limit_store_unavailable"
    assert refusal.value.headers["Retry-After"] == "1"
    assert "127.0.0.1" not in refusal.value.message
    assert limiter.store_failures >= 1
    assert not await limiter.healthy()


async def test_a_store_that_stops_answering_does_not_hang_requests(
    open_limiter: OpenLimiter, redis_proxy: TcpProxy
) -> None:
    limiter = await open_limiter(redis_proxy.url)
    assert await outcome(limiter, "before") == "admitted"
    redis_proxy.stalled = True  # connections stay open; no answer ever comes
    started = time.monotonic()
    assert await outcome(limiter, "stalled") == "503"
    assert time.monotonic() - started < MOST_A_REFUSAL_MAY_TAKE
    await redis_proxy.cut()
    await redis_proxy.restore()
    assert await outcome(limiter, "after") == "admitted"


async def test_redis_down_mid_run_gives_503s_then_recovers(
    open_limiter: OpenLimiter, redis_proxy: TcpProxy
) -> None:
    limiter = await open_limiter(redis_proxy.url)
    phase = "up"
    seen: Counter[tuple[str, str]] = Counter()

    async def client(number: int) -> None:
        for sequence in range(10_000):
            current = phase
            result = await outcome(limiter, f"client-{number}-{sequence}")
            if phase == current:  # ignore answers that straddle a switch
                seen[(current, result)] += 1
            if phase == "done":
                return
            await anyio.sleep(0.01)

    async with anyio.create_task_group() as group:
        for number in range(8):
            group.start_soon(client, number)
        await anyio.sleep(0.5)
        phase = "down"
        await redis_proxy.cut()
        healthy_while_down = await limiter.healthy()
        await anyio.sleep(0.8)
        phase = "back"
        await redis_proxy.restore()
        await anyio.sleep(0.8)
        phase = "done"

    assert seen[("up", "admitted")] > 0
    assert seen[("down", "503")] > 0
    assert seen[("back", "admitted")] > 0
    assert {result for (when, result) in seen if when == "up"} == {"admitted"}
    assert {result for (when, result) in seen if when == "down"} == {"503"}
    assert not healthy_while_down
    assert await limiter.healthy()
    assert limiter.store_failures >= seen[("down", "503")]


async def test_an_outage_after_admission_never_fails_the_request(
    open_limiter: OpenLimiter, redis_proxy: TcpProxy
) -> None:
    limiter = await open_limiter(redis_proxy.url, slot_ttl_seconds=1)
    one_slot = [QuotaScope("tenant", "acme", Quota(tokens_per_minute=1000, concurrent=1))]
    admission = await limiter.admit("served", one_slot, 500)
    await redis_proxy.cut()
    failures_before = limiter.store_failures
    await admission.keep_alive()
    await admission.settle(100)
    await admission.release()  # none of these raise: the response was already served
    assert limiter.store_failures == failures_before + 3
    await redis_proxy.restore()
    await anyio.sleep(1.1)  # the slot that could not be released has expired
    probe = await limiter.admit("next", one_slot, 0)
    assert probe.headers["x-ratelimit-remaining-tokens"] == "500"  # refund lost, not invented


async def test_local_fallback_enforces_the_quota_per_replica_while_the_store_is_down(
    open_limiter: OpenLimiter, redis_proxy: TcpProxy
) -> None:
    limiter = await open_limiter(redis_proxy.url, local_fallback=True)
    scopes = [QuotaScope("tenant", "acme", Quota(requests_per_minute=3))]
    shared = await limiter.admit("shared", scopes, 0)
    assert not shared.local_fallback

    await redis_proxy.cut()
    local = [await limiter.admit(f"local-{number}", scopes, 0) for number in range(3)]
    assert all(admission.local_fallback for admission in local)
    with pytest.raises(RateLimitedError, match="tenant requests per minute"):
        await limiter.admit("local-over", scopes, 0)
    assert limiter.store_failures >= 4

    await redis_proxy.restore()
    back = await limiter.admit("shared-again", scopes, 0)
    assert not back.local_fallback
    assert back.headers["x-ratelimit-remaining-requests"] == "1"  # shared count: 2 of 3
