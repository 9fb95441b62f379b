"""What the policy needs to know about a request: sizes and names, never its content."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

import msgspec

from gateway.wire.requests import ChatCompletionRequest, CompletionRequest


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    """The measurable facts of one OpenAI request, built by the gateway after decoding."""

    model: str
    message_count: int
    """Messages in a chat request; 1 for a text completion."""
    prompt_chars: int
    """Characters across all messages (or the prompt)."""
    prompt_tokens: int | None
    """Prompt tokens, or None before the prompt is tokenized (that cap is then not checked)."""
    max_tokens: int | None
    """Completion tokens asked for (``max_completion_tokens`` or ``max_tokens``); None if not."""
    n: int
    parameters: frozenset[str]
    """Names of the fields present in the request body."""
    stream: bool
    prompt_field: Literal["messages", "prompt"] = "messages"
    """Where the prompt is in the body; names the ``param`` of a size refusal."""
    logprobs: int | None = None
    """Alternatives per token asked for (chat ``top_logprobs`` when ``logprobs`` is true,
    completions ``logprobs``); None when token logprobs were not asked for."""


def policy_request_for_chat(
    request: ChatCompletionRequest, *, prompt_tokens: int | None = None
) -> PolicyRequest:
    return PolicyRequest(
        model=request.model,
        message_count=len(request.messages),
        prompt_chars=sum(len(message.text()) for message in request.messages),
        prompt_tokens=prompt_tokens,
        max_tokens=request.max_completion_tokens or request.max_tokens,
        n=request.n,
        parameters=present_parameters(request),
        stream=request.stream,
        prompt_field="messages",
        logprobs=(request.top_logprobs or 0) if request.logprobs else None,
    )


def policy_request_for_completion(
    request: CompletionRequest, *, prompt_tokens: int | None = None
) -> PolicyRequest:
    prompts = [request.prompt] if isinstance(request.prompt, str) else request.prompt
    return PolicyRequest(
        model=request.model,
        message_count=1,
        prompt_chars=sum(len(prompt) for prompt in prompts),
        prompt_tokens=prompt_tokens,
        max_tokens=request.max_tokens,
        n=request.n,
        parameters=present_parameters(request),
        stream=request.stream,
        prompt_field="prompt",
        logprobs=request.logprobs,
    )


def present_parameters(request: msgspec.Struct) -> frozenset[str]:
    """Fields the caller set: required ones, and any whose value differs from its default.

    A field sent with its default value changes nothing, so it counts as absent.
    """
    present = set()
    for info in _fields_of(type(request)):
        value = getattr(request, info.name)
        if info.required or _differs_from_default(value, info):
            present.add(info.encode_name)
    return frozenset(present)


@functools.cache
def _fields_of(struct_type: type[msgspec.Struct]) -> tuple[msgspec.structs.FieldInfo, ...]:
    """``msgspec.structs.fields``, once per request type: it evaluates the class's type
    annotations on every call, which cost more than the rest of the policy gate together."""
    return msgspec.structs.fields(struct_type)


def _differs_from_default(value: object, info: msgspec.structs.FieldInfo) -> bool:
    if info.default is not msgspec.NODEFAULT:
        return bool(value != info.default)
    if info.default_factory is not msgspec.NODEFAULT:
        return bool(value != info.default_factory())
    return True
