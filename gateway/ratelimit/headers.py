"""OpenAI-style rate-limit headers, sent on every response and not only on refusals."""

from __future__ import annotations

import math
from collections.abc import Sequence

from gateway.ratelimit.windows import WindowHit, WindowKind

HEADER_KINDS: tuple[WindowKind, ...] = ("requests", "tokens")


def format_reset(seconds: float) -> str:
    """A duration as OpenAI writes it: ``"250ms"``, ``"12s"``, ``"1m0s"``, ``"1h2m3s"``."""
    if seconds < 1:
        return f"{max(0, math.ceil(seconds * 1000))}ms"
    hours, rest = divmod(math.ceil(seconds), 3600)
    minutes, whole_seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{whole_seconds}s"
    if minutes:
        return f"{minutes}m{whole_seconds}s"
    return f"{whole_seconds}s"


def format_retry_after(seconds: float) -> str:
    """``Retry-After`` in whole seconds, never 0 (a client would retry at once)."""
    return str(max(1, math.ceil(seconds)))


def most_constraining(hits: Sequence[WindowHit], kind: WindowKind) -> WindowHit | None:
    """The hit of ``kind`` with the least left, the one that ends soonest breaking ties."""
    candidates = [hit for hit in hits if hit.limit.kind == kind]
    if not candidates:
        return None
    return min(candidates, key=lambda hit: (hit.remaining, hit.reset_at))


def quota_headers(hits: Sequence[WindowHit], now: float) -> dict[str, str]:
    """``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` from the tightest scope.

    A kind that no scope limits gets no headers (there is nothing to report).
    """
    headers: dict[str, str] = {}
    for kind in HEADER_KINDS:
        hit = most_constraining(hits, kind)
        if hit is None:
            continue
        headers[f"x-ratelimit-limit-{kind}"] = str(hit.limit.amount)
        headers[f"x-ratelimit-remaining-{kind}"] = str(hit.remaining)
        headers[f"x-ratelimit-reset-{kind}"] = format_reset(hit.reset_at - now)
    return headers
