"""The policy's rate limits, as the limiter's quota scopes for one caller."""

from __future__ import annotations

from gateway.auth.principal import Principal
from gateway.policy.schema import RateLimits, RateQuota
from gateway.ratelimit.quota import Quota, QuotaScope


def quota_scopes(principal: Principal, limits: RateLimits) -> tuple[QuotaScope, QuotaScope]:
    """The caller's tenant quota and its department's shared quota."""
    return (
        QuotaScope(kind="tenant", name=principal.tenant, quota=_quota(limits.per_tenant)),
        QuotaScope(
            kind="department", name=principal.department, quota=_quota(limits.per_department)
        ),
    )


def _quota(rate: RateQuota) -> Quota:
    return Quota(
        requests_per_minute=rate.requests_per_minute,
        tokens_per_minute=rate.tokens_per_minute,
        concurrent=rate.concurrent_requests,
        burst=rate.burst,
    )
