"""The department's policy decides, before the engine sees anything."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from tests.support.echo_engine import ECHO_MODEL, EchoEngine
from tests.support.identity import TokenFactory

pytestmark = pytest.mark.anyio

Client = AsyncTestClient  # type: ignore[type-arg]


def chat(**extra: object) -> dict[str, object]:
    return {"model": ECHO_MODEL, "messages": [{"role": "user", "content": "hi there"}], **extra}


async def call_as(client: Client, tokens: TokenFactory, department: str, body: dict[str, object]):  # type: ignore[no-untyped-def]
    tenant = f"{department}-app"
    tokens.add_tenant(tenant, department)
    token, _ = tokens.issue(tenant, ("app",))
    return await client.post(
        "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {token}"}
    )


async def test_model_outside_the_allow_list_is_403_with_explanation(
    anonymous_client: Client, tokens: TokenFactory, echo_engine: EchoEngine
) -> None:
    response = await call_as(anonymous_client, tokens, "finance", chat())
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "model_not_allowed"
    assert error["explanation"]["policy"] == "finance"
    assert "hi there" not in response.text, "explanations never carry request content"
    assert echo_engine.started == []


async def test_parameter_outside_the_allow_list_is_400(
    anonymous_client: Client, tokens: TokenFactory
) -> None:
    response = await call_as(anonymous_client, tokens, "support", chat(logprobs=True))
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "logprobs"


async def test_n_above_the_department_cap(anonymous_client: Client, tokens: TokenFactory) -> None:
    response = await call_as(anonymous_client, tokens, "support", chat(n=2))
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "n"


async def test_unasked_max_tokens_takes_the_department_cap_or_the_room_left(
    anonymous_client: Client, tokens: TokenFactory
) -> None:
    long_prompt = " ".join(["data"] * 200)  # 201 of the echo model's 256 tokens
    response = await call_as(
        anonymous_client,
        tokens,
        "support",
        chat(messages=[{"role": "user", "content": long_prompt}]),
    )
    assert response.status_code == 200
    assert response.json()["usage"]["completion_tokens"] == 256 - 201
    assert response.json()["choices"][0]["finish_reason"] == "length"


async def test_department_without_a_file_gets_the_default_policy(
    anonymous_client: Client, tokens: TokenFactory
) -> None:
    response = await call_as(anonymous_client, tokens, "legal", chat(n=2))
    assert response.status_code == 400
    assert response.json()["error"]["explanation"]["policy"] == "default"


@pytest.mark.parametrize(
    ("messages", "limit"),
    [
        ([{"role": "user", "content": "hi"}] * 41, "limits.max_messages"),
        ([{"role": "user", "content": "x " * 6001}], "limits.max_prompt_chars"),
    ],
    ids=["41 messages", "12,002 characters"],
)
async def test_conversations_over_the_department_caps_never_reach_the_engine(
    anonymous_client: Client,
    tokens: TokenFactory,
    echo_engine: EchoEngine,
    messages: list[dict[str, str]],
    limit: str,
) -> None:
    response = await call_as(anonymous_client, tokens, "support", chat(messages=messages))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "policy_violation"
    assert error["param"] == "messages"
    assert limit in error["message"]
    assert echo_engine.started == []
