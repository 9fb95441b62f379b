"""What a checked request becomes before the engine: the ``GenerationPlan`` and its budget.

``Pipeline.plan_chat`` / ``plan_completion`` run the gates (model, policy, PII, tokens) and
hand what they found to ``build_plan``, which turns the caller's sampling fields into the
engine's ``SamplingSpec`` and sizes the completion to the policy and the context window.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.protocol import ModelInfo, SamplingSpec
from gateway.auth.principal import Principal
from gateway.cache.gate import NOT_CACHED, CacheLookup
from gateway.errors import ContextLengthExceededError, InvalidRequestError
from gateway.policy.decision import Decision
from gateway.redaction.input_redaction import InputRedaction
from gateway.wire.requests import SamplingFields

DEFAULT_TEMPERATURE = 1.0
DEFAULT_TOP_P = 1.0


@dataclass(frozen=True, slots=True)
class GenerationPlan:
    """A checked request, ready for the engine."""

    request_id: str
    route: str
    principal: Principal
    decision: Decision
    redaction: InputRedaction
    """What the engine sees of the prompt, what was taken out, and the pseudonyms to restore."""
    prompt_texts: tuple[str, ...]
    """The caller's own text (kept in memory; stored only encrypted, if the policy says full)."""
    model: str
    prompt_token_ids: list[int]
    sampling: SamplingSpec
    stream: bool
    include_usage: bool
    top_logprobs: int | None
    """How many alternatives to render per token; None when logprobs were not asked for."""
    cache: CacheLookup = NOT_CACHED
    """What the response cache holds for this request (a hit is answered without the engine)."""


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    """What the gates established about a request before its sampling is planned."""

    request_id: str
    route: str
    principal: Principal
    decision: Decision
    model: ModelInfo
    prompt_ids: list[int]
    redaction: InputRedaction
    prompt_texts: tuple[str, ...]


def build_plan(
    prepared: PreparedRequest, request: SamplingFields, logprobs: int | None
) -> GenerationPlan:
    """The engine's sampling for ``request``, its completion sized by ``completion_budget``."""
    if request.stream_options is not None and not request.stream:
        raise InvalidRequestError(
            "stream_options is only allowed when stream is true", param="stream_options"
        )
    asked: int | None = getattr(request, "max_completion_tokens", None) or request.max_tokens
    budget = completion_budget(
        prepared.model, len(prepared.prompt_ids), asked, prepared.decision.max_tokens
    )
    sampling = SamplingSpec(
        max_tokens=budget,
        temperature=DEFAULT_TEMPERATURE if request.temperature is None else request.temperature,
        top_p=DEFAULT_TOP_P if request.top_p is None else request.top_p,
        n=request.n,
        stop=request.stop_sequences(),
        seed=request.seed,
        presence_penalty=request.presence_penalty,
        frequency_penalty=request.frequency_penalty,
        logprobs=logprobs,
    )
    return GenerationPlan(
        request_id=prepared.request_id,
        route=prepared.route,
        principal=prepared.principal,
        decision=prepared.decision,
        model=prepared.model.name,
        prompt_token_ids=prepared.prompt_ids,
        redaction=prepared.redaction,
        prompt_texts=prepared.prompt_texts,
        sampling=sampling,
        stream=request.stream,
        include_usage=bool(request.stream_options and request.stream_options.include_usage),
        top_logprobs=logprobs,
    )


def completion_budget(
    model: ModelInfo, prompt_tokens: int, asked: int | None, policy_cap: int
) -> int:
    """The tokens asked for if the context has room; unasked, the policy's cap or the room left."""
    room = model.max_model_len - prompt_tokens
    requested = asked if asked is not None else min(policy_cap, max(room, 1))
    if room < 1 or requested > room:
        needed = f"{prompt_tokens + requested} tokens ({prompt_tokens} in the prompt"
        needed += f", {requested} for the completion)"
        raise ContextLengthExceededError(
            f"this model's maximum context length is {model.max_model_len} tokens, "
            f"but the request needs {needed}; shorten the prompt or lower max_tokens",
            param="max_tokens" if room >= 1 else "messages",
        )
    return requested
