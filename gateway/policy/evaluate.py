"""``evaluate``: the caller's policy applied to one request. Pure: no I/O, no clock, no state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase

from gateway.auth.principal import Principal
from gateway.policy.decision import MODEL_NOT_ALLOWED, Decision, Violation
from gateway.policy.entities import ALWAYS_ALLOWED_PARAMETERS, ANY_PARAMETER
from gateway.policy.policy_set import PolicySet
from gateway.policy.problems import show_value
from gateway.policy.request import PolicyRequest
from gateway.policy.schema import Policy

Check = Callable[[Policy, PolicyRequest], Iterator[Violation]]


def evaluate(policies: PolicySet, principal: Principal, request: PolicyRequest) -> Decision:
    """Which policy applies to ``principal``, its numbers, and every limit ``request`` breaks."""
    policy = policies.policy_for(principal.department)
    violations = tuple(violation for check in CHECKS for violation in check(policy, request))
    cap = policy.limits.max_tokens
    return Decision(
        tenant=principal.tenant,
        department=principal.department,
        policy_name=policy.name,
        extends_chain=policy.extends_chain,
        models=policy.models,
        limits=policy.limits,
        rate_limits=policy.rate_limits,
        pii=policy.pii,
        audit=policy.audit,
        cache=policy.cache,
        max_tokens=min(request.max_tokens or cap, cap),
        violations=violations,
    )


def model_allowed(policy: Policy, model: str) -> bool:
    return any(fnmatchcase(model, pattern) for pattern in policy.models)


def check_model(policy: Policy, request: PolicyRequest) -> Iterator[Violation]:
    if not model_allowed(policy, request.model):
        detail = f'model {show_value(request.model)} is not allowed by the "{policy.name}" policy'
        yield Violation("models", MODEL_NOT_ALLOWED, "model", detail, 403)


def check_max_tokens(policy: Policy, request: PolicyRequest) -> Iterator[Violation]:
    cap = policy.limits.max_tokens
    if request.max_tokens is not None and request.max_tokens > cap:
        detail = f"{request.max_tokens} tokens requested, the limit is {cap}"
        yield Violation("limits.max_tokens", "max_tokens", "max_tokens", detail, 400)


def check_prompt_chars(policy: Policy, request: PolicyRequest) -> Iterator[Violation]:
    cap = policy.limits.max_prompt_chars
    if request.prompt_chars > cap:
        detail = f"{request.prompt_chars} prompt characters, the limit is {cap}"
        yield Violation(
            "limits.max_prompt_chars", "max_prompt_chars", request.prompt_field, detail, 400
        )


def check_prompt_tokens(policy: Policy, request: PolicyRequest) -> Iterator[Violation]:
    cap = policy.limits.max_prompt_tokens
    if request.prompt_tokens is not None and request.prompt_tokens > cap:
        detail = f"{request.prompt_tokens} prompt tokens, the limit is {cap}"
        yield Violation(
            "limits.max_prompt_tokens", "max_prompt_tokens", request.prompt_field, detail, 400
        )


def check_messages(policy: Policy, request: PolicyRequest) -> Iterator[Violation]:
    cap = policy.limits.max_messages
    if request.message_count > cap:
        detail = f"{request.message_count} messages, the limit is {cap}"
        yield Violation("limits.max_messages", "max_messages", "messages", detail, 400)


def check_choices(policy: Policy, request: PolicyRequest) -> Iterator[Violation]:
    cap = policy.limits.max_n
    if request.n > cap:
        yield Violation("limits.max_n", "n", "n", f"{request.n} choices, the limit is {cap}", 400)


def check_logprobs(policy: Policy, request: PolicyRequest) -> Iterator[Violation]:
    cap = policy.limits.max_logprobs
    if request.logprobs is not None and request.logprobs > cap:
        param = "top_logprobs" if request.prompt_field == "messages" else "logprobs"
        detail = f"{request.logprobs} logprobs per token, the limit is {cap}"
        yield Violation("limits.max_logprobs", "max_logprobs", param, detail, 400)


def check_parameters(policy: Policy, request: PolicyRequest) -> Iterator[Violation]:
    allowed = set(policy.limits.allowed_parameters) | ALWAYS_ALLOWED_PARAMETERS
    if ANY_PARAMETER in allowed:
        return
    for name in sorted(request.parameters - allowed):
        detail = f'parameter "{name}" is not allowed by this policy'
        yield Violation("limits.allowed_parameters", "parameter_not_allowed", name, detail, 400)


CHECKS: tuple[Check, ...] = (
    check_model,
    check_max_tokens,
    check_prompt_chars,
    check_prompt_tokens,
    check_messages,
    check_choices,
    check_logprobs,
    check_parameters,
)
"""Every check ``evaluate`` runs, in the order their reasons are reported."""
