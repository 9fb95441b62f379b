"""What a tenant or a department may spend: the numbers the policy ``Decision`` carries."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Literal

ScopeKind = Literal["tenant", "department"]


@dataclass(frozen=True, slots=True)
class Quota:
    """Limits for one scope. ``None`` means unlimited; ``0`` means nothing is admitted."""

    requests_per_minute: int | None = None
    """Requests admitted per clock minute (a fixed window aligned to :00 of each minute)."""

    tokens_per_minute: int | None = None
    """Prompt plus completion tokens per clock minute. A request reserves its estimate
    (prompt tokens + requested maximum) when admitted and settles to the real usage when
    it ends, so unused tokens go back into the minute they were taken from."""

    concurrent: int | None = None
    """Requests in flight at the same time. A slot is freed on completion, error or client
    disconnect, and expires on its own (``slot_ttl_seconds``) if a replica dies holding it."""

    burst: int | None = None
    """The most requests admitted within one clock second (a fixed one-second window).
    It stops a scope from spending its whole minute in a single instant: with
    ``requests_per_minute=600, burst=20`` at most 20 requests start in any clock second.
    Like every fixed window, two adjacent seconds can admit up to ``2 * burst`` requests
    within a span shorter than one second straddling their boundary."""

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if value is not None and (isinstance(value, bool) or value < 0):
                raise ValueError(f"{field.name} must be a non-negative integer or None")

    @property
    def is_unlimited(self) -> bool:
        return all(getattr(self, field.name) is None for field in fields(self))


@dataclass(frozen=True, slots=True)
class QuotaScope:
    """A named scope that owns a quota: one tenant, or the total of one department."""

    kind: ScopeKind
    name: str
    quota: Quota
