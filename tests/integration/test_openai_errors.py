"""Bad input gets a clear error in OpenAI's envelope with the right status."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.support.echo_engine import ECHO_MODEL, EchoEngine

pytestmark = pytest.mark.anyio

Client = AsyncTestClient  # type: ignore[type-arg]


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) - {"explanation"} == {"message", "type", "param", "code"}
    assert "Traceback" not in response.text
    error: dict[str, Any] = body["error"]
    return error


def chat(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"model": ECHO_MODEL, "messages": [{"role": "user", "content": "hi"}]}
    base.update(fields)
    return base


async def test_malformed_json(client: Client) -> None:
    response = await client.post(
        "/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
    )
    error = error_of(response, 400)
    assert error["code"] == "invalid_json"


async def test_empty_body(client: Client) -> None:
    error = error_of(await client.post("/v1/chat/completions", content=b""), 400)
    assert "empty" in error["message"]


@pytest.mark.parametrize(
    ("field", "value", "param"),
    [
        ("temperature", "hot", "temperature"),
        ("temperature", 2.5, "temperature"),
        ("top_p", 0, "top_p"),
        ("n", 0, "n"),
        ("n", 17, "n"),
        ("max_tokens", 0, "max_tokens"),
        ("max_tokens", "ten", "max_tokens"),
        ("stop", ["a", "b", "c", "d", "e"], "stop"),
        ("presence_penalty", 3, "presence_penalty"),
        ("top_logprobs", 21, "top_logprobs"),
        ("messages", [], "messages"),
        ("messages", "hi", "messages"),
        ("model", 7, "model"),
    ],
)
async def test_wrong_types_and_ranges_name_the_parameter(
    client: Client, field: str, value: Any, param: str
) -> None:
    error = error_of(await client.post("/v1/chat/completions", json=chat(**{field: value})), 400)
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    "field", ["tools", "response_format", "logit_bias", "chat_template_kwargs", "guided_json"]
)
async def test_unsupported_parameters_are_refused_not_ignored(client: Client, field: str) -> None:
    error = error_of(await client.post("/v1/chat/completions", json=chat(**{field: {}})), 400)
    assert error["param"] == field
    assert error["code"] == "unsupported_parameter"


@pytest.mark.parametrize("route", ["/v1/chat/completions", "/v1/completions"])
@pytest.mark.parametrize(
    ("field", "value"), [("best_of", 4), ("guided_regex", "a+"), ("echo", True)]
)
async def test_sampling_extensions_outside_the_allow_list_are_refused(
    client: Client, echo_engine: EchoEngine, route: str, field: str, value: Any
) -> None:
    base = chat() if route == "/v1/chat/completions" else {"model": ECHO_MODEL, "prompt": "hi"}
    error = error_of(await client.post(route, json={**base, field: value}), 400)
    assert error["param"] == field
    assert error["code"] == "unsupported_parameter"
    assert echo_engine.started == [], "a refused request must never reach the engine"


async def test_image_content_parts_are_refused(client: Client) -> None:
    message = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x"}}]}
    error = error_of(await client.post("/v1/chat/completions", json=chat(messages=[message])), 400)
    assert error["param"] == "messages[0].content[0].type"


async def test_unknown_role_and_missing_model(client: Client) -> None:
    message = {"role": "tool", "content": "x"}
    error_of(await client.post("/v1/chat/completions", json=chat(messages=[message])), 400)
    body = {"messages": [{"role": "user", "content": "hi"}]}
    error = error_of(await client.post("/v1/chat/completions", json=body), 400)
    assert "model" in error["message"]


async def test_all_empty_messages(client: Client) -> None:
    messages = [{"role": "user", "content": "   "}]
    error = error_of(await client.post("/v1/chat/completions", json=chat(messages=messages)), 400)
    assert error["param"] == "messages"


async def test_unknown_model_is_404(client: Client) -> None:
    error = error_of(await client.post("/v1/chat/completions", json=chat(model="gpt-9")), 404)
    assert error["code"] == "model_not_found"
    assert "gpt-9" in error["message"]


async def test_max_tokens_over_context_is_400(client: Client) -> None:
    error = error_of(await client.post("/v1/chat/completions", json=chat(max_tokens=1_000)), 400)
    assert error["code"] == "context_length_exceeded"
    assert "256" in error["message"]


async def test_max_tokens_over_the_policy_cap_is_400_naming_the_limit(client: Client) -> None:
    error = error_of(await client.post("/v1/chat/completions", json=chat(max_tokens=10_000)), 400)
    assert error["code"] == "policy_violation"
    assert error["param"] == "max_tokens"
    assert "4096" in error["message"]


async def test_prompt_over_context_is_400(client: Client) -> None:
    body = {"model": ECHO_MODEL, "prompt": "word " * 300}
    error = error_of(await client.post("/v1/completions", json=body), 400)
    assert error["code"] == "context_length_exceeded"


async def test_batched_and_empty_prompts(client: Client) -> None:
    error_of(
        await client.post("/v1/completions", json={"model": ECHO_MODEL, "prompt": ["a", "b"]}), 400
    )
    error_of(await client.post("/v1/completions", json={"model": ECHO_MODEL, "prompt": ""}), 400)


async def test_stream_options_without_stream(client: Client) -> None:
    body = chat(stream_options={"include_usage": True})
    error = error_of(await client.post("/v1/chat/completions", json=body), 400)
    assert error["param"] == "stream_options"


async def test_template_rejection_is_400(client: Client) -> None:
    messages = [{"role": "assistant", "content": "I start"}]
    error_of(await client.post("/v1/chat/completions", json=chat(messages=messages)), 400)


async def test_body_over_limit_is_413(client: Client) -> None:
    huge = chat(messages=[{"role": "user", "content": "x" * 70_000}])
    error = error_of(await client.post("/v1/chat/completions", json=huge), 413)
    assert error["code"] == "request_too_large"


async def test_unknown_route_and_wrong_method(client: Client) -> None:
    error_of(await client.get("/v1/nothing"), 404)
    error_of(await client.get("/v1/chat/completions"), 405)


async def test_engine_failure_before_output_is_503(client: Client, echo_engine: EchoEngine) -> None:
    echo_engine.fail_after_tokens = 0
    error = error_of(await client.post("/v1/chat/completions", json=chat()), 503)
    assert "engine" in error["message"]
    assert "injected" not in error["message"]
    stream = await client.post("/v1/chat/completions", json=chat(stream=True))
    error_of(stream, 503)


async def test_engine_failure_mid_stream_ends_with_an_error_event(
    client: Client, echo_engine: EchoEngine
) -> None:
    echo_engine.fail_after_tokens = 1
    messages = [{"role": "user", "content": "a b c"}]
    response = await client.post("/v1/chat/completions", json=chat(messages=messages, stream=True))
    assert response.status_code == 200
    assert '"error"' in response.text
    assert "injected" not in response.text
    assert response.text.rstrip().endswith("data: [DONE]")
