"""Rate-limit headers read like OpenAI's, so existing clients and dashboards understand them."""

from __future__ import annotations

import pytest
from limits import RateLimitItemPerMinute

from gateway.ratelimit.headers import format_reset, format_retry_after, quota_headers
from gateway.ratelimit.quota import Quota, QuotaScope, ScopeKind
from gateway.ratelimit.windows import WindowHit, WindowKind, WindowLimit
from tests.unit.ratelimit.clock import TEN_SECONDS_IN


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.25, "250ms"),
        (0.0, "0ms"),
        (-3.0, "0ms"),
        (1.0, "1s"),
        (12.0, "12s"),
        (12.2, "13s"),
        (59.5, "1m0s"),
        (60.0, "1m0s"),
        (75.0, "1m15s"),
        (3723.0, "1h2m3s"),
    ],
)
def test_reset_durations_are_written_like_openai(seconds: float, expected: str) -> None:
    assert format_reset(seconds) == expected


@pytest.mark.parametrize(("seconds", "expected"), [(0.2, "1"), (0.0, "1"), (12.1, "13")])
def test_retry_after_is_whole_seconds_and_never_zero(seconds: float, expected: str) -> None:
    assert format_retry_after(seconds) == expected


def hit(scope_kind: ScopeKind, kind: WindowKind, amount: int, count: int) -> WindowHit:
    scope = QuotaScope(scope_kind, "x", Quota())
    limit = WindowLimit(scope, kind, RateLimitItemPerMinute(amount), 1)
    return WindowHit(limit, int(TEN_SECONDS_IN // 60), count)


def test_headers_come_from_the_scope_with_the_least_left() -> None:
    hits = [
        hit("tenant", "requests", 100, 10),  # 90 left
        hit("department", "requests", 1000, 995),  # 5 left: the tighter one
        hit("tenant", "tokens", 5000, 1000),
    ]
    headers = quota_headers(hits, TEN_SECONDS_IN)
    assert headers == {
        "x-ratelimit-limit-requests": "1000",
        "x-ratelimit-remaining-requests": "5",
        "x-ratelimit-reset-requests": "50s",
        "x-ratelimit-limit-tokens": "5000",
        "x-ratelimit-remaining-tokens": "4000",
        "x-ratelimit-reset-tokens": "50s",
    }


def test_an_unlimited_kind_sends_no_headers() -> None:
    headers = quota_headers([hit("tenant", "requests", 10, 1)], TEN_SECONDS_IN)
    assert not any("tokens" in name for name in headers)
    assert quota_headers([], TEN_SECONDS_IN) == {}


def test_remaining_never_goes_below_zero() -> None:
    headers = quota_headers([hit("tenant", "tokens", 10, 25)], TEN_SECONDS_IN)
    assert headers["x-ratelimit-remaining-tokens"] == "0"
