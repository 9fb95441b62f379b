"""Admission on the in-process store: every limit, every scope, all or nothing."""

from __future__ import annotations

import pytest

from gateway.errors import RateLimitedError
from gateway.ratelimit import Admission, Quota, QuotaScope, RateLimiter
from tests.unit.ratelimit.clock import FakeClock

pytestmark = pytest.mark.anyio


def tenant(name: str, **quota: int) -> QuotaScope:
    return QuotaScope("tenant", name, Quota(**quota))


def department(name: str, **quota: int) -> QuotaScope:
    return QuotaScope("department", name, Quota(**quota))


async def admit_all(
    limiter: RateLimiter, scopes: list[QuotaScope], count: int, tokens: int = 0
) -> tuple[list[Admission], list[RateLimitedError]]:
    admitted: list[Admission] = []
    refused: list[RateLimitedError] = []
    for number in range(count):
        try:
            admitted.append(await limiter.admit(f"req-{number}", scopes, tokens))
        except RateLimitedError as error:
            refused.append(error)
    return admitted, refused


async def test_requests_per_minute_admits_the_quota_then_refuses_until_the_minute_ends(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    scopes = [tenant("acme", requests_per_minute=3)]
    admitted, refused = await admit_all(limiter, scopes, 5)
    assert len(admitted) == 3
    assert len(refused) == 2
    error = refused[0]
    assert error.status_code == 429
    assert error.code == "rate_limit_exceeded"
    assert "tenant requests per minute" in error.message
    assert error.headers["Retry-After"] == "50"
    assert error.headers["x-ratelimit-remaining-requests"] == "0"
    assert error.headers["x-ratelimit-reset-requests"] == "50s"

    clock.advance(50)  # the next clock minute
    admission = await limiter.admit("next-minute", scopes, 0)
    assert admission.headers["x-ratelimit-remaining-requests"] == "2"
    assert admission.headers["x-ratelimit-reset-requests"] == "1m0s"


async def test_every_admission_carries_openai_headers(limiter: RateLimiter) -> None:
    scopes = [tenant("acme", requests_per_minute=10, tokens_per_minute=1000)]
    admission = await limiter.admit("req", scopes, 120)
    assert admission.headers == {
        "x-ratelimit-limit-requests": "10",
        "x-ratelimit-remaining-requests": "9",
        "x-ratelimit-reset-requests": "50s",
        "x-ratelimit-limit-tokens": "1000",
        "x-ratelimit-remaining-tokens": "880",
        "x-ratelimit-reset-tokens": "50s",
    }


async def test_an_unlimited_scope_is_always_admitted(limiter: RateLimiter) -> None:
    admitted, refused = await admit_all(limiter, [tenant("free")], 50, tokens=10_000)
    assert len(admitted) == 50
    assert refused == []
    assert admitted[0].headers == {}


async def test_burst_caps_the_requests_that_start_within_one_clock_second(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    scopes = [tenant("acme", requests_per_minute=100, burst=3)]
    admitted, refused = await admit_all(limiter, scopes, 5)
    assert len(admitted) == 3
    assert "tenant requests per second (burst)" in refused[0].message
    assert refused[0].headers["Retry-After"] == "1"
    clock.advance(1)
    admitted, _ = await admit_all(limiter, scopes, 5)
    assert len(admitted) == 3
    clock.advance(1)
    later = await limiter.admit("later", scopes, 0)
    # The minute counted only the admitted requests (3 + 3 + this one), not the refused ones.
    assert later.headers["x-ratelimit-remaining-requests"] == str(100 - 7)


async def test_tokens_per_minute_reserves_the_estimate(limiter: RateLimiter) -> None:
    scopes = [tenant("acme", tokens_per_minute=1000)]
    await limiter.admit("first", scopes, 600)
    with pytest.raises(RateLimitedError, match="tenant tokens per minute") as refusal:
        await limiter.admit("second", scopes, 500)
    assert refusal.value.headers["x-ratelimit-remaining-tokens"] == "400"
    fits = await limiter.admit("third", scopes, 400)
    assert fits.headers["x-ratelimit-remaining-tokens"] == "0"


async def test_a_request_larger_than_the_whole_minute_is_told_so(limiter: RateLimiter) -> None:
    with pytest.raises(RateLimitedError, match="Request too large") as refusal:
        await limiter.admit("huge", [tenant("acme", tokens_per_minute=100)], 101)
    assert "limit 100, requested 101" in refusal.value.message


async def test_a_refusal_by_one_scope_consumes_nothing_in_the_others(
    limiter: RateLimiter,
) -> None:
    acme = tenant("acme", requests_per_minute=10, tokens_per_minute=1000)
    research = department("research", requests_per_minute=1)
    await limiter.admit("first", [acme, research], 100)
    with pytest.raises(RateLimitedError, match="department requests per minute"):
        await limiter.admit("second", [acme, research], 100)
    alone = await limiter.admit("third", [acme], 100)
    assert alone.headers["x-ratelimit-remaining-requests"] == "8"
    assert alone.headers["x-ratelimit-remaining-tokens"] == "800"


async def test_a_full_concurrency_slot_gives_back_the_counted_requests_and_tokens(
    limiter: RateLimiter,
) -> None:
    acme = tenant("acme", requests_per_minute=10, tokens_per_minute=1000, concurrent=1)
    holding = await limiter.admit("holding", [acme], 100)
    with pytest.raises(RateLimitedError, match="tenant concurrent requests") as refusal:
        await limiter.admit("waiting", [acme], 100)
    assert refusal.value.headers["Retry-After"] == "1"
    assert refusal.value.headers["x-ratelimit-remaining-requests"] == "9"
    assert refusal.value.headers["x-ratelimit-remaining-tokens"] == "900"
    await holding.release()
    after = await limiter.admit("after", [acme], 100)
    assert after.headers["x-ratelimit-remaining-requests"] == "8"


async def test_one_tenant_exhausting_its_quota_leaves_another_untouched(
    limiter: RateLimiter,
) -> None:
    quota = {"requests_per_minute": 5, "tokens_per_minute": 500}
    _, refused = await admit_all(limiter, [tenant("acme", **quota)], 10, tokens=50)
    assert len(refused) == 5
    admitted, refused = await admit_all(limiter, [tenant("globex", **quota)], 5, tokens=50)
    assert refused == []
    assert admitted[0].headers["x-ratelimit-remaining-requests"] == "4"
    assert admitted[0].headers["x-ratelimit-remaining-tokens"] == "450"


async def test_refusals_never_name_a_tenant_or_department(limiter: RateLimiter) -> None:
    scopes = [tenant("acme-corp", requests_per_minute=5), department("secret-lab", burst=1)]
    _, refused = await admit_all(limiter, scopes, 3)
    for error in refused:
        rendered = str(error.to_body()) + str(error.headers)
        assert "acme-corp" not in rendered
        assert "secret-lab" not in rendered


async def test_department_totals_cap_the_sum_of_its_tenants(limiter: RateLimiter) -> None:
    research = department("research", requests_per_minute=7)
    admitted_per_tenant = {}
    for name in ("ada", "grace", "linus"):
        admitted, _ = await admit_all(limiter, [tenant(name, requests_per_minute=5), research], 5)
        admitted_per_tenant[name] = len(admitted)
    assert admitted_per_tenant == {"ada": 5, "grace": 2, "linus": 0}


async def test_names_that_look_like_key_paths_do_not_share_counters(
    limiter: RateLimiter,
) -> None:
    await admit_all(limiter, [tenant("a/tokens", requests_per_minute=1)], 1)
    admitted, _ = await admit_all(limiter, [tenant("a", requests_per_minute=1)], 1)
    assert len(admitted) == 1


async def test_the_memory_store_is_always_healthy(limiter: RateLimiter) -> None:
    assert await limiter.healthy()
    assert limiter.store_failures == 0
