"""Personal data through the whole app: the engine never sees what the policy redacts."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from tests.support.echo_engine import ECHO_MODEL, EchoEngine
from tests.support.identity import TokenFactory

pytestmark = pytest.mark.anyio

Client = AsyncTestClient  # type: ignore[type-arg]


def engine_saw(engine: EchoEngine) -> str:
    """Every word the engine was given, across all prompts (the echo engine keeps a vocabulary)."""
    return " ".join(engine.vocabulary)


async def ask(client: Client, tokens: TokenFactory, department: str, text: str, **extra: object):  # type: ignore[no-untyped-def]
    tenant = f"{department}-app"
    tokens.add_tenant(tenant, department)
    token, _ = tokens.issue(tenant, ("app",))
    body = {"model": ECHO_MODEL, "messages": [{"role": "user", "content": text}], **extra}
    return await client.post(
        "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {token}"}
    )


async def test_redacted_email_never_reaches_the_engine_or_the_caller(
    anonymous_client: Client, tokens: TokenFactory, echo_engine: EchoEngine
) -> None:
    response = await ask(anonymous_client, tokens, "support", "write to jane.doe@example.com today")
    assert response.status_code == 200
    assert "jane.doe@example.com" not in engine_saw(echo_engine)
    answer = response.json()["choices"][0]["message"]["content"]
    assert "<EMAIL_ADDRESS>" in answer
    assert "jane.doe@example.com" not in answer


async def test_zero_width_characters_do_not_hide_an_email(
    anonymous_client: Client, tokens: TokenFactory, echo_engine: EchoEngine
) -> None:
    hidden = "write to jane\u200b.doe@exam\u200cple.com today"
    response = await ask(anonymous_client, tokens, "support", hidden)
    assert response.status_code == 200
    assert "example.com" not in engine_saw(echo_engine).replace("\u200c", "")


async def test_pseudonyms_are_restored_for_the_caller_only(
    anonymous_client: Client, tokens: TokenFactory, echo_engine: EchoEngine
) -> None:
    text = "employee EMP-123456 badge renewal"
    response = await ask(anonymous_client, tokens, "engineering", text)
    assert response.status_code == 200
    assert "EMP-123456" not in engine_saw(echo_engine)
    assert "<EMPLOYEE_ID_1>" in engine_saw(echo_engine)
    assert "EMP-123456" in response.json()["choices"][0]["message"]["content"]


async def test_pseudonyms_restored_across_stream_chunks(
    anonymous_client: Client, tokens: TokenFactory
) -> None:
    response = await ask(
        anonymous_client, tokens, "engineering", "employee EMP-654321 badge", stream=True
    )
    assert response.status_code == 200
    assert "EMP-654321" in response.text
    assert "EMPLOYEE_ID_1" not in response.text


async def test_blocked_entity_is_400_naming_the_type_not_the_value(
    anonymous_client: Client, tokens: TokenFactory, echo_engine: EchoEngine
) -> None:
    response = await ask(
        anonymous_client, tokens, "hr", "resident id 11010519491231002X for payroll"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "pii_blocked"
    assert "CN_RESIDENT_ID" in error["message"]
    assert "11010519491231002X" not in response.text
    assert echo_engine.started == []
