"""The official openai client against the real gateway and the real vLLM engine, over HTTPS."""

from __future__ import annotations

import asyncio

import openai
import pytest

from tests.e2e.conftest import RunningGateway

pytestmark = pytest.mark.e2e

QUESTION = [{"role": "user", "content": "Tell me something about the sea."}]


def test_chat_completion_with_usage(gateway: RunningGateway, client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model=gateway.model, messages=QUESTION, max_tokens=16, temperature=0
    )
    assert reply.object == "chat.completion"
    assert reply.model == gateway.model
    choice = reply.choices[0]
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert choice.finish_reason in ("stop", "length")
    assert reply.usage is not None
    assert 0 < reply.usage.completion_tokens <= 16
    assert reply.usage.prompt_tokens > 5
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_greedy_answers_repeat_and_seed_makes_sampling_repeatable(
    gateway: RunningGateway, client: openai.OpenAI
) -> None:

    def ask(**sampling: float | int) -> str:
        reply = client.chat.completions.create(
            model=gateway.model, messages=QUESTION, max_tokens=12, **sampling
        )
        return reply.choices[0].message.content or ""

    assert ask(temperature=0) == ask(temperature=0)
    assert ask(temperature=1.0, seed=7) == ask(temperature=1.0, seed=7)


def test_async_client(gateway: RunningGateway) -> None:
    async def ask_three() -> list[str]:
        async with gateway.async_client() as client:
            replies = await asyncio.gather(
                *(
                    client.chat.completions.create(
                        model=gateway.model, messages=QUESTION, max_tokens=8
                    )
                    for _ in range(3)
                )
            )
        return [reply.choices[0].message.content or "" for reply in replies]

    answers = asyncio.run(ask_three())
    assert len(answers) == 3
    assert all(answers)


def test_streaming_chat_matches_non_streaming(
    gateway: RunningGateway, client: openai.OpenAI
) -> None:
    whole = client.chat.completions.create(
        model=gateway.model, messages=QUESTION, max_tokens=12, temperature=0
    )
    stream = client.chat.completions.create(
        model=gateway.model,
        messages=QUESTION,
        max_tokens=12,
        temperature=0,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish == [whole.choices[0].finish_reason]
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == whole.usage.completion_tokens  # type: ignore[union-attr]


def test_n_choices(gateway: RunningGateway, client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(
        model=gateway.model, messages=QUESTION, max_tokens=8, n=3, temperature=1.0, seed=3
    )
    assert sorted(choice.index for choice in reply.choices) == [0, 1, 2]
    assert all(choice.message.content for choice in reply.choices)
    assert reply.usage is not None
    assert 3 <= reply.usage.completion_tokens <= 24


def test_stop_sequence_ends_the_answer_before_it(
    gateway: RunningGateway, client: openai.OpenAI
) -> None:
    free = client.chat.completions.create(
        model=gateway.model, messages=QUESTION, max_tokens=24, temperature=0
    )
    text = free.choices[0].message.content or ""
    assert len(text) > 8, "the tiny model should produce some text"
    stop = text[len(text) // 2 : len(text) // 2 + 3]
    stopped = client.chat.completions.create(
        model=gateway.model, messages=QUESTION, max_tokens=24, temperature=0, stop=[stop]
    )
    assert stopped.choices[0].finish_reason == "stop"
    assert stopped.choices[0].message.content == text[: text.index(stop)]


def test_text_completion_and_stream(gateway: RunningGateway, client: openai.OpenAI) -> None:
    reply = client.completions.create(
        model=gateway.model, prompt="The weather today is", max_tokens=10, temperature=0
    )
    assert reply.choices[0].text
    assert reply.usage is not None
    assert reply.usage.completion_tokens <= 10
    streamed = client.completions.create(
        model=gateway.model,
        prompt="The weather today is",
        max_tokens=10,
        temperature=0,
        stream=True,
    )
    assert "".join(chunk.choices[0].text for chunk in streamed) == reply.choices[0].text


def test_logprobs(gateway: RunningGateway) -> None:
    gateway.enclave("tenants", "create", "lab", "--department", "research", "--if-missing")
    token = gateway.enclave(
        "tokens", "issue", "--tenant", "lab", "--roles", "app", "--ttl", "1h", "-q"
    )
    with gateway.client(token) as client:
        reply = client.chat.completions.create(
            model=gateway.model, messages=QUESTION, max_tokens=4, logprobs=True, top_logprobs=3
        )
    content = reply.choices[0].logprobs.content  # type: ignore[union-attr]
    assert content is not None
    assert len(content) == reply.usage.completion_tokens  # type: ignore[union-attr]
    assert all(entry.logprob <= 0 for entry in content)
    assert all(len(entry.top_logprobs) == 3 for entry in content)


def test_pii_is_redacted_before_the_engine(gateway: RunningGateway, client: openai.OpenAI) -> None:
    reply = client.chat.completions.with_raw_response.create(
        model=gateway.model,
        messages=[{"role": "user", "content": "mail bob.smith@example.org about the report"}],
        max_tokens=4,
    )
    assert reply.http_response.status_code == 200
    assert "bob.smith@example.org" not in gateway.log_text()


def test_models_list(gateway: RunningGateway, client: openai.OpenAI) -> None:
    models = client.models.list()
    assert [model.id for model in models.data] == [gateway.model]


def test_errors_reach_the_client_as_openai_errors(
    gateway: RunningGateway, client: openai.OpenAI
) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="no-such-model", messages=QUESTION)
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as too_long:
        client.chat.completions.create(model=gateway.model, messages=QUESTION, max_tokens=4000)
    assert too_long.value.code == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError) as over_policy:
        client.chat.completions.create(model=gateway.model, messages=QUESTION, max_tokens=100_000)
    assert over_policy.value.code == "policy_violation"
    with pytest.raises(openai.BadRequestError) as unsupported:
        client.chat.completions.create(
            model=gateway.model, messages=QUESTION, extra_body={"guided_json": {}}
        )
    assert unsupported.value.code == "unsupported_parameter"


def test_logs_carry_request_ids_but_no_prompt_text(
    gateway: RunningGateway, client: openai.OpenAI
) -> None:
    secret = "zebra-violet-4417"
    reply = client.chat.completions.with_raw_response.create(
        model=gateway.model, messages=[{"role": "user", "content": secret}], max_tokens=4
    )
    request_id = reply.headers["x-request-id"]
    log = gateway.log_text()
    assert request_id in log
    assert secret not in log
