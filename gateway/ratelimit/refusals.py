"""The errors a client sees when a quota says no, or when quotas cannot be checked.

Messages name the limit and the scope's kind ("tenant tokens per minute"), never a
tenant's or department's name, and never another tenant's usage.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.errors import RateLimitedError, ServiceUnavailableError
from gateway.ratelimit.headers import format_reset, format_retry_after, quota_headers
from gateway.ratelimit.quota import QuotaScope
from gateway.ratelimit.windows import WindowHit

LIMIT_NAMES = {
    "requests": "requests per minute",
    "burst": "requests per second (burst)",
    "tokens": "tokens per minute",
    "concurrent": "concurrent requests",
}
# Nobody knows when a request in flight will end; one second is a polite first wait.
CONCURRENCY_RETRY_SECONDS = 1.0
STORE_RETRY_SECONDS = 1.0


def window_refusal(hits: Sequence[WindowHit], now: float) -> RateLimitedError:
    """The refusal for a request that some window counter did not admit.

    Names the limit that blocks longest (a request larger than a whole window first),
    waits until that window ends, and reports headers as they stand after giving back.
    """
    refused = [hit for hit in hits if not hit.admitted]
    blocking = max(refused, key=lambda hit: (hit.limit.cost > hit.limit.amount, hit.reset_at))
    wait = blocking.reset_at - now
    limit = blocking.limit
    limit_name = f"{limit.scope.kind} {LIMIT_NAMES[limit.kind]}"
    if limit.cost > limit.amount:
        message = (
            f"Request too large for the {limit_name} limit: limit {limit.amount}, "
            f"requested {limit.cost}. Lower max_tokens or shorten the prompt."
        )
    else:
        message = (
            f"Rate limit reached for {limit_name}: limit {limit.amount}, "
            f"requested {limit.cost}. Please try again in {format_reset(wait)}."
        )
    given_back = [hit.without_own_cost() for hit in hits]
    return rate_limited(message, wait, quota_headers(given_back, now), kind=limit.kind)


def slot_refusal(scope: QuotaScope, hits: Sequence[WindowHit], now: float) -> RateLimitedError:
    """The refusal for a request that found every concurrency slot of ``scope`` taken."""
    message = (
        f"Rate limit reached for {scope.kind} {LIMIT_NAMES['concurrent']}: "
        f"limit {scope.quota.concurrent}. Please try again when a request in flight ends."
    )
    given_back = [hit.without_own_cost() for hit in hits]
    headers = quota_headers(given_back, now)
    return rate_limited(message, CONCURRENCY_RETRY_SECONDS, headers, kind="concurrency")


def rate_limited(
    message: str, wait_seconds: float, headers: dict[str, str], *, kind: str
) -> RateLimitedError:
    error = RateLimitedError(message)
    error.limit_kind = kind
    error.headers.update(headers)
    error.headers["Retry-After"] = format_retry_after(wait_seconds)
    return error


def store_unavailable() -> ServiceUnavailableError:
    """Fail closed: quotas could not be checked, so the request is not processed."""
    error = ServiceUnavailableError(
        "Rate limits cannot be checked right now, so the request was not processed. "
        "Please try again shortly.",
        code="rate_limit_store_unavailable",
    )
    error.headers["Retry-After"] = format_retry_after(STORE_RETRY_SECONDS)
    return error
