"""A decision told in full, for ``enclave policy explain`` (text or JSON)."""

from __future__ import annotations

from typing import Any

import msgspec

from gateway.policy.decision import Decision
from gateway.policy.schema import CachePolicy, PiiPolicy, RateQuota


def explanation_report(decision: Decision) -> dict[str, Any]:
    """Everything the decision carries; sizes, names and numbers only, never content."""
    report = decision.explanation()
    report |= {
        "tenant": decision.tenant,
        "models": list(decision.models),
        "max_tokens": decision.max_tokens,
        "rate_limits": msgspec.to_builtins(decision.rate_limits),
        "pii": msgspec.to_builtins(decision.pii),
        "audit": msgspec.to_builtins(decision.audit),
        "cache": msgspec.to_builtins(decision.cache),
    }
    return report


def render_explanation(decision: Decision) -> str:
    """The report as lines a person reads top to bottom."""
    return "\n".join(
        [
            *_policy_lines(decision),
            "",
            *_limit_lines(decision),
            "",
            "Rate limits",
            _quota_line("per tenant", decision.rate_limits.per_tenant),
            _quota_line("per department", decision.rate_limits.per_department),
            "",
            *_pii_lines(decision.pii),
            "",
            f"Audit: content {decision.audit.content}, kept {decision.audit.retention_days} days",
            _cache_line(decision.cache),
        ]
    )


def _cache_line(cache: CachePolicy) -> str:
    if not cache.enabled:
        return "Response cache: off"
    return (
        f"Response cache: on for temperature 0 or seeded requests, answers kept "
        f"{cache.ttl_seconds} s, at most {cache.max_entries} per tenant"
    )


def _policy_lines(decision: Decision) -> list[str]:
    chain = " → ".join((decision.policy_name, *decision.extends_chain))
    lines = [
        f"Tenant {decision.tenant}, department {decision.department}",
        f"Policy: {chain}",
        f"Models: {', '.join(decision.models) or '(none)'}",
    ]
    if decision.allowed:
        return [*lines, "Decision: allowed"]
    return [*lines, "Decision: refused", *(f"  - {reason}" for reason in decision.reasons)]


def _limit_lines(decision: Decision) -> list[str]:
    limits = decision.limits
    parameters = ", ".join(limits.allowed_parameters) or "(only model, messages, prompt)"
    return [
        "Limits",
        f"  max_tokens         {limits.max_tokens} (this request gets {decision.max_tokens})",
        f"  max_prompt_chars   {limits.max_prompt_chars}",
        f"  max_prompt_tokens  {limits.max_prompt_tokens}",
        f"  max_messages       {limits.max_messages}",
        f"  max_n              {limits.max_n}",
        f"  max_logprobs       {limits.max_logprobs}",
        f"  parameters         {parameters}",
    ]


def _quota_line(scope: str, quota: RateQuota) -> str:
    return (
        f"  {scope:<15} {quota.requests_per_minute} requests/min, "
        f"{quota.tokens_per_minute} tokens/min, {quota.concurrent_requests} concurrent, "
        f"burst {quota.burst}"
    )


def _pii_lines(pii: PiiPolicy) -> list[str]:
    lines = [f"PII (findings scored below {pii.score_threshold} are ignored)"]
    for entity, rule in sorted(pii.entities.items()):
        threshold = "" if rule.score_threshold is None else f", threshold {rule.score_threshold}"
        recognizer = pii.recognizers.get(entity)
        custom = ""
        if recognizer is not None:
            context = ", ".join(recognizer.context) or "none"
            custom = f"  [custom: {len(recognizer.patterns)} pattern(s), context: {context}]"
        lines.append(f"  {entity:<16} {rule.action:<13} {rule.direction}{threshold}{custom}")
    return lines
