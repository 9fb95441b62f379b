"""The policy sees a request's sizes and parameter names, built from the decoded body."""

from __future__ import annotations

import msgspec

from gateway.policy.request import policy_request_for_chat, policy_request_for_completion
from gateway.wire.requests import ChatCompletionRequest, CompletionRequest


def test_a_chat_request_is_measured() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "be brief"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "hi"}, {"type": "text", "text": "!"}],
            },
        ],
        "max_completion_tokens": 40,
        "max_tokens": 99,
        "n": 2,
        "temperature": 0.2,
        "stream": True,
    }
    request = policy_request_for_chat(msgspec.convert(body, ChatCompletionRequest), prompt_tokens=7)
    assert request.model == "m"
    assert request.message_count == 2
    assert request.prompt_chars == len("be brief") + len("hi!")
    assert request.prompt_tokens == 7
    assert request.max_tokens == 40  # max_completion_tokens wins, as in the pipeline
    assert request.n == 2
    assert request.stream is True
    assert request.prompt_field == "messages"
    assert request.parameters == {
        "model", "messages", "max_completion_tokens", "max_tokens", "n", "temperature", "stream",
    }  # fmt: skip


def test_parameters_left_at_their_defaults_count_as_absent() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 1, "stream": False}
    request = policy_request_for_chat(msgspec.convert(body, ChatCompletionRequest))
    assert request.parameters == {"model", "messages"}
    assert request.max_tokens is None
    assert request.prompt_tokens is None


def test_a_text_completion_is_measured() -> None:
    body = {"model": "m", "prompt": ["abc", "de"], "max_tokens": 5, "logprobs": 2}
    request = policy_request_for_completion(msgspec.convert(body, CompletionRequest))
    assert request.message_count == 1
    assert request.prompt_chars == 5
    assert request.max_tokens == 5
    assert request.prompt_field == "prompt"
    assert request.parameters == {"model", "prompt", "max_tokens", "logprobs"}
