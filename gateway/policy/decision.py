"""What the policy decided about one request, and the refusal a client sees when it says no.

Every later gate reads its numbers from the ``Decision``: the rate limiter its quotas,
redaction its entity rules, audit its content level, the engine call its ``max_tokens``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from gateway.errors import GatewayError, InvalidRequestError, PermissionDeniedError
from gateway.policy.schema import (
    AuditPolicy,
    CachePolicy,
    PiiPolicy,
    RateLimits,
    RequestLimits,
)

MODEL_NOT_ALLOWED = "model_not_allowed"
POLICY_VIOLATION = "policy_violation"


@dataclass(frozen=True, slots=True)
class Violation:
    """One limit a request breaks. Says sizes and names, never the request's content."""

    limit: str
    """The policy field (``limits.max_messages``)."""
    code: str
    """Stable name of the check (``max_messages``, ``model_not_allowed``)."""
    param: str | None
    """The request field at fault (``messages``)."""
    detail: str
    """``12 messages, the limit is 10``."""
    status: Literal[400, 403]

    def __str__(self) -> str:
        return f"{self.limit}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Decision:
    """The applicable policy's numbers for one request, and whether it may go ahead."""

    tenant: str
    department: str
    policy_name: str
    """The policy file that applies (the department's, or ``default``)."""
    extends_chain: tuple[str, ...]
    models: tuple[str, ...]
    limits: RequestLimits
    rate_limits: RateLimits
    pii: PiiPolicy
    audit: AuditPolicy
    cache: CachePolicy
    """Whether deterministic answers are stored and served again, and for how long."""
    max_tokens: int
    """Completion tokens to give the engine: what was asked, or the policy's cap."""
    violations: tuple[Violation, ...]

    @property
    def allowed(self) -> bool:
        return not self.violations

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why not, one line per broken limit (``limits.n: 4 choices, the limit is 1``)."""
        return tuple(str(violation) for violation in self.violations)

    def explanation(self) -> dict[str, Any]:
        """What a refused client may see: the policy, what it broke, and the caps."""
        return {
            "policy": self.policy_name,
            "extends": list(self.extends_chain),
            "department": self.department,
            "allowed": self.allowed,
            "violations": [
                {"limit": v.limit, "code": v.code, "param": v.param, "message": v.detail}
                for v in self.violations
            ],
            "limits": msgspec.to_builtins(self.limits),
        }

    def refusal(self) -> GatewayError | None:
        """The error to answer with (403 for a model, 400 for a cap), or None if allowed."""
        if not self.violations:
            return None
        forbidden = [v for v in self.violations if v.status == 403]
        first = forbidden[0] if forbidden else self.violations[0]
        message = f"refused by the {self.policy_name!r} policy: " + "; ".join(self.reasons)
        if forbidden:
            return PolicyForbiddenError(message, param=first.param, explanation=self.explanation())
        return PolicyLimitError(message, param=first.param, explanation=self.explanation())


class PolicyLimitError(InvalidRequestError):
    """400: the request is over one of its policy's caps."""

    default_code = POLICY_VIOLATION

    def __init__(self, message: str, *, param: str | None, explanation: dict[str, Any]) -> None:
        super().__init__(message, param=param)
        self.explanation = explanation

    def to_body(self) -> dict[str, dict[str, Any]]:
        return _with_explanation(super().to_body(), self.explanation)


class PolicyForbiddenError(PermissionDeniedError):
    """403: the policy does not let this caller use what it asked for (a model)."""

    default_code = MODEL_NOT_ALLOWED

    def __init__(self, message: str, *, param: str | None, explanation: dict[str, Any]) -> None:
        super().__init__(message, param=param)
        self.explanation = explanation

    def to_body(self) -> dict[str, dict[str, Any]]:
        return _with_explanation(super().to_body(), self.explanation)


def _with_explanation(
    body: dict[str, dict[str, str | None]], explanation: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    error: dict[str, Any] = dict(body["error"])
    error["explanation"] = explanation
    return {"error": error}
