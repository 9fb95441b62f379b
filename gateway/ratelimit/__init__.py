"""Per-tenant and per-department quotas (requests, tokens, concurrency, burst) on `limits`.

The lead pieces: ``Quota`` and ``QuotaScope`` say what may be spent, ``RateLimiter``
admits or refuses, and the returned ``Admission`` settles tokens and frees slots.
"""

from gateway.ratelimit.admission import Admission
from gateway.ratelimit.limiter import RateLimiter
from gateway.ratelimit.quota import Quota, QuotaScope

__all__ = ["Admission", "Quota", "QuotaScope", "RateLimiter"]
