"""An admin's day through the real CLI and server: tenant, token, call, revoke, refused."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from tests.e2e.conftest import RunningGateway

pytestmark = pytest.mark.e2e

QUESTION = [{"role": "user", "content": "hello"}]


def test_issue_call_revoke_refuse(gateway: RunningGateway) -> None:
    gateway.enclave("tenants", "create", "initech", "--department", "hr")
    issued = json.loads(
        gateway.enclave(
            "tokens", "issue", "--tenant", "initech", "--roles", "app", "--ttl", "30m", "--json"
        )
    )
    with gateway.client(issued["token"]) as client:
        reply = client.chat.completions.create(model=gateway.model, messages=QUESTION, max_tokens=4)
        assert reply.choices[0].message.content is not None
        gateway.enclave("tokens", "revoke", issued["jti"])
        with pytest.raises(openai.AuthenticationError) as refused:
            client.chat.completions.create(model=gateway.model, messages=QUESTION, max_tokens=4)
    assert refused.value.code == "token_revoked"
    assert issued["token"] not in gateway.log_text(), "tokens must never reach the logs"


def test_suspended_tenant_is_refused_and_resumed(gateway: RunningGateway) -> None:
    gateway.enclave("tenants", "create", "umbrella", "--department", "support")
    token = gateway.enclave(
        "tokens", "issue", "--tenant", "umbrella", "--roles", "app", "--ttl", "30m", "-q"
    )
    with gateway.client(token) as client:
        gateway.enclave("tenants", "suspend", "umbrella")
        with pytest.raises(openai.PermissionDeniedError):
            client.models.list()
        gateway.enclave("tenants", "resume", "umbrella")
        assert client.models.list().data


def test_jwks_publishes_the_signing_key(gateway: RunningGateway) -> None:
    keys = httpx.get(
        f"{gateway.base_url}/.well-known/jwks.json", verify=gateway.ssl_context()
    ).json()
    listed = json.loads(gateway.enclave("keys", "list", "--json"))
    assert {key["kid"] for key in keys["keys"]} >= {listed[0]["kid"]}
    assert all("d" not in key for key in keys["keys"])


def test_missing_and_bad_tokens_are_401(gateway: RunningGateway) -> None:
    for token in ("not-a-jwt", gateway.token[:-4] + "AAAA"):
        with gateway.client(token) as client, pytest.raises(openai.AuthenticationError):
            client.models.list()
    response = httpx.get(f"{gateway.base_url}/v1/models", verify=gateway.ssl_context())
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_token"


def test_finance_policy_refuses_models_it_has_not_reviewed(gateway: RunningGateway) -> None:
    gateway.enclave("tenants", "create", "ledger", "--department", "finance")
    token = gateway.enclave(
        "tokens", "issue", "--tenant", "ledger", "--roles", "app", "--ttl", "30m", "-q"
    )
    with gateway.client(token) as client, pytest.raises(openai.PermissionDeniedError) as refused:
        client.chat.completions.create(model=gateway.model, messages=QUESTION, max_tokens=4)
    assert refused.value.code == "model_not_allowed"
