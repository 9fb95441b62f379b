"""Quotas are plain numbers from the policy; nonsense is refused where it is written."""

from __future__ import annotations

import pytest

from gateway.errors import ConfigurationError
from gateway.ratelimit import Quota, QuotaScope, RateLimiter
from gateway.ratelimit.windows import window_limits


@pytest.mark.parametrize(
    "field", ["requests_per_minute", "tokens_per_minute", "concurrent", "burst"]
)
def test_a_negative_quota_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Quota(**{field: -1})


def test_a_boolean_is_not_a_quota() -> None:
    with pytest.raises(ValueError, match="concurrent"):
        Quota(concurrent=True)


def test_every_limit_of_every_scope_is_checked_in_a_fixed_order() -> None:
    scopes = [
        QuotaScope("tenant", "acme", Quota(requests_per_minute=10, tokens_per_minute=100)),
        QuotaScope("department", "research", Quota(burst=5, concurrent=3)),
    ]
    limits = window_limits(scopes, estimated_tokens=40)
    assert [(limit.scope.kind, limit.kind, limit.amount, limit.cost) for limit in limits] == [
        ("tenant", "requests", 10, 1),
        ("tenant", "tokens", 100, 40),
        ("department", "burst", 5, 1),
    ]
    assert [limit.width_seconds for limit in limits] == [60, 60, 1]


def test_a_negative_token_estimate_is_a_bug() -> None:
    with pytest.raises(ValueError, match="estimated_tokens"):
        window_limits([], estimated_tokens=-1)


@pytest.mark.anyio
async def test_an_unknown_storage_scheme_stops_start_up() -> None:
    with pytest.raises(ConfigurationError, match="memcached"):
        await RateLimiter.connect("memcached://127.0.0.1:11211")
