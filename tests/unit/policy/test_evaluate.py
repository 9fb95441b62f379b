"""evaluate(): which policy applies, its numbers, and each limit a request breaks."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from gateway.auth.principal import Principal
from gateway.errors import InvalidRequestError, PermissionDeniedError
from gateway.policy.decision import PolicyForbiddenError, PolicyLimitError
from gateway.policy.evaluate import evaluate
from gateway.policy.policy_set import PolicySet
from gateway.policy.request import PolicyRequest
from tests.unit.policy.policy_folder import PolicyFolder

SMALL_REQUEST = PolicyRequest(
    model="any-model",
    message_count=2,
    prompt_chars=100,
    prompt_tokens=None,
    max_tokens=None,
    n=1,
    parameters=frozenset({"model", "messages", "temperature"}),
    stream=False,
)


def principal(department: str = "finance", tenant: str = "acme") -> Principal:
    return Principal(
        tenant=tenant,
        department=department,
        subject="svc-1",
        roles=frozenset({"app"}),
        token_id="jti-1",
        issuer="enclave",
    )


@pytest.fixture
def policies(folder: PolicyFolder) -> PolicySet:
    folder.write(
        "finance",
        """\
        extends: default
        models: ["approved-*", exact-model]
        limits:
          max_tokens: 100
          allowed_parameters: [max_tokens, temperature]
        audit: {content: full, retention_days: 2555}
        """,
    )
    folder.write("engineering", 'extends: default\nlimits: {allowed_parameters: ["*"]}\n')
    return folder.load()


def request(**changes: Any) -> PolicyRequest:
    return dataclasses.replace(SMALL_REQUEST, **changes)


def test_a_request_within_every_limit_is_allowed_with_the_policys_numbers(
    policies: PolicySet,
) -> None:
    decision = evaluate(policies, principal("finance"), request(model="approved-7b"))
    assert decision.allowed
    assert decision.reasons == ()
    assert decision.refusal() is None
    assert (decision.policy_name, decision.department, decision.tenant) == (
        "finance",
        "finance",
        "acme",
    )
    assert decision.extends_chain == ("default",)
    assert decision.max_tokens == 100  # none asked for: the cap
    assert decision.limits.max_messages == 10
    assert decision.rate_limits.per_tenant.requests_per_minute == 60
    assert decision.pii.entities["EMAIL_ADDRESS"].action == "redact"
    assert (decision.audit.content, decision.audit.retention_days) == ("full", 2555)


def test_the_engine_gets_what_was_asked_when_it_is_under_the_cap(policies: PolicySet) -> None:
    decision = evaluate(policies, principal("finance"), request(model="exact-model", max_tokens=30))
    assert decision.allowed
    assert decision.max_tokens == 30


def test_a_department_without_a_file_gets_the_default_policy(policies: PolicySet) -> None:
    decision = evaluate(policies, principal("marketing"), SMALL_REQUEST)
    assert decision.policy_name == "default"
    assert decision.department == "marketing"
    assert decision.extends_chain == ()
    assert decision.allowed


CAPS_BROKEN = [
    ({"max_tokens": 1001}, "limits.max_tokens: 1001 tokens requested, the limit is 1000"),
    ({"prompt_chars": 5001}, "limits.max_prompt_chars: 5001 prompt characters, the limit is 5000"),
    ({"prompt_tokens": 2001}, "limits.max_prompt_tokens: 2001 prompt tokens, the limit is 2000"),
    ({"message_count": 12}, "limits.max_messages: 12 messages, the limit is 10"),
    ({"n": 3}, "limits.max_n: 3 choices, the limit is 2"),
    (
        {"parameters": frozenset({"model", "messages", "seed"})},
        'limits.allowed_parameters: parameter "seed" is not allowed by this policy',
    ),
]
PARAMS = ["max_tokens", "messages", "messages", "messages", "n", "seed"]


@pytest.mark.parametrize(
    ("changes", "reason", "param"),
    [(*case, param) for case, param in zip(CAPS_BROKEN, PARAMS, strict=True)]
    + [({"prompt_chars": 5001, "prompt_field": "prompt"}, CAPS_BROKEN[1][1], "prompt")],
)
def test_each_cap_refuses_with_400_naming_the_limit(
    policies: PolicySet, changes: dict[str, Any], reason: str, param: str
) -> None:
    decision = evaluate(policies, principal("support"), request(**changes))
    assert not decision.allowed
    assert decision.reasons == (reason,)
    error = decision.refusal()
    assert isinstance(error, PolicyLimitError)
    assert isinstance(error, InvalidRequestError)
    assert error.status_code == 400
    assert error.code == "policy_violation"
    assert error.param == param
    assert error.message == f"refused by the 'default' policy: {reason}"


def test_limits_at_exactly_the_cap_are_allowed(policies: PolicySet) -> None:
    at_cap = request(max_tokens=1000, prompt_chars=5000, prompt_tokens=2000, message_count=10, n=2)
    assert evaluate(policies, principal("support"), at_cap).allowed


def test_prompt_tokens_are_not_checked_before_they_are_known(policies: PolicySet) -> None:
    assert evaluate(policies, principal("support"), request(prompt_tokens=None)).allowed


def test_a_model_outside_the_allow_list_is_refused_with_403(policies: PolicySet) -> None:
    decision = evaluate(policies, principal("finance"), request(model="unreviewed-70b"))
    assert decision.reasons == (
        'models: model "unreviewed-70b" is not allowed by the "finance" policy',
    )
    error = decision.refusal()
    assert isinstance(error, PolicyForbiddenError)
    assert isinstance(error, PermissionDeniedError)
    assert (error.status_code, error.code, error.param) == (403, "model_not_allowed", "model")


@pytest.mark.parametrize("model", ["approved-7b", "approved-", "exact-model"])
def test_model_patterns_match_whole_names(policies: PolicySet, model: str) -> None:
    assert evaluate(policies, principal("finance"), request(model=model)).allowed


@pytest.mark.parametrize("model", ["exact-model-2", "Approved-7b", "not-approved-7b"])
def test_model_patterns_are_exact_and_case_sensitive(policies: PolicySet, model: str) -> None:
    assert not evaluate(policies, principal("finance"), request(model=model)).allowed


def test_a_star_allows_every_model(policies: PolicySet) -> None:
    assert evaluate(policies, principal("hr"), request(model="whatever/model:v2")).allowed


def test_model_messages_and_prompt_are_always_allowed(policies: PolicySet) -> None:
    body = frozenset({"model", "messages", "prompt", "max_tokens"})
    assert evaluate(policies, principal("finance"), request(
        model="exact-model", parameters=body
    )).allowed  # fmt: skip


def test_a_star_allows_every_parameter(policies: PolicySet) -> None:
    body = frozenset({"model", "messages", "logprobs", "top_logprobs", "seed"})
    assert evaluate(policies, principal("engineering"), request(parameters=body)).allowed


def test_every_broken_limit_is_reported_and_403_wins(policies: PolicySet) -> None:
    too_much = request(
        model="other", max_tokens=500, n=2, parameters=frozenset({"model", "n", "stream"})
    )
    decision = evaluate(policies, principal("finance"), too_much)
    assert [violation.code for violation in decision.violations] == [
        "model_not_allowed",
        "max_tokens",
        "parameter_not_allowed",
        "parameter_not_allowed",
    ]
    error = decision.refusal()
    assert isinstance(error, PolicyForbiddenError)
    assert error.message.count(";") == 3  # every reason is in the message


def test_the_error_body_is_openais_envelope_with_the_explanation(policies: PolicySet) -> None:
    with_n = request(model="exact-model", n=3, parameters=frozenset({"model", "messages", "n"}))
    decision = evaluate(policies, principal("finance"), with_n)
    error = decision.refusal()
    assert error is not None
    body = json.loads(json.dumps(error.to_body()))  # plain JSON all the way down
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["code"] == "policy_violation"
    assert body["error"]["param"] == "n"
    explanation = body["error"]["explanation"]
    assert explanation["policy"] == "finance"
    assert explanation["extends"] == ["default"]
    assert explanation["department"] == "finance"
    assert explanation["allowed"] is False
    assert explanation["violations"] == [
        {
            "limit": "limits.max_n",
            "code": "n",
            "param": "n",
            "message": "3 choices, the limit is 2",
        },
        {
            "limit": "limits.allowed_parameters",
            "code": "parameter_not_allowed",
            "param": "n",
            "message": 'parameter "n" is not allowed by this policy',
        },
    ]
    assert explanation["limits"]["max_tokens"] == 100
    assert "pii" not in explanation  # clients learn their caps, not the PII rules


def test_evaluate_is_pure(policies: PolicySet) -> None:
    first = evaluate(policies, principal("finance"), request(model="exact-model", n=3))
    second = evaluate(policies, principal("finance"), request(model="exact-model", n=3))
    assert first == second
    assert policies.policy_for("finance").limits.max_n == 2


@pytest.mark.parametrize(
    ("prompt_field", "param"), [("messages", "top_logprobs"), ("prompt", "logprobs")]
)
def test_logprob_alternatives_over_the_cap_are_refused(
    folder: PolicyFolder, prompt_field: str, param: str
) -> None:
    folder.write(
        "research", 'extends: default\nlimits: {max_logprobs: 2, allowed_parameters: ["*"]}\n'
    )
    policies = folder.load()
    over = request(logprobs=3, prompt_field=prompt_field)
    decision = evaluate(policies, principal("research"), over)
    assert decision.reasons == ("limits.max_logprobs: 3 logprobs per token, the limit is 2",)
    error = decision.refusal()
    assert isinstance(error, PolicyLimitError)
    assert error.param == param
    assert evaluate(policies, principal("research"), request(logprobs=2)).allowed
    assert evaluate(policies, principal("research"), request(logprobs=None)).allowed
