"""The Engine protocol the gateway talks to, and the plain data that crosses it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

FinishReason = Literal["stop", "length", "abort"]


class EngineError(Exception):
    """The engine failed or is not able to serve; the gateway answers 503."""


class EngineConfigurationError(EngineError):
    """The engine cannot start with the configuration it was given."""


class PromptRenderError(Exception):
    """The prompt cannot be rendered (for example, the chat template rejects the messages)."""


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: str
    content: str


@dataclass(frozen=True, slots=True)
class SamplingSpec:
    """How to sample, in engine terms (already validated by the gateway)."""

    max_tokens: int | None = None
    temperature: float = 1.0
    top_p: float = 1.0
    n: int = 1
    stop: tuple[str, ...] = ()
    seed: int | None = None
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    logprobs: int | None = None
    """Number of top alternatives to report per sampled token; None reports none."""
    ignore_eos: bool = False


@dataclass(frozen=True, slots=True)
class Prompt:
    """What to complete: either chat messages (templated by the engine) or raw text."""

    text: str | None = None
    messages: tuple[ChatMessage, ...] | None = None


@dataclass(frozen=True, slots=True)
class TokenLogprob:
    token: str
    logprob: float
    top: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Delta:
    """New output of one choice since the previous delta."""

    index: int
    text: str
    completion_tokens: int
    """Completion tokens of this choice so far (cumulative)."""
    finish_reason: FinishReason | None = None
    logprobs: tuple[TokenLogprob, ...] = ()


@dataclass(frozen=True, slots=True)
class GenerationStep:
    """One step of a generation: the deltas of every choice that advanced."""

    prompt_tokens: int
    deltas: tuple[Delta, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    name: str
    max_model_len: int
    created: int


@dataclass(frozen=True, slots=True)
class EngineHealth:
    ready: bool
    device: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class EngineStats:
    """The engine scheduler's latest state, as its last step reported it."""

    running: int
    """Requests being generated for now."""
    waiting: int
    """Requests queued, waiting for room in the batch or the KV cache."""
    kv_cache_usage: float
    """Share of the KV cache in use, from 0 to 1."""


@runtime_checkable
class Engine(Protocol):
    """An inference engine the gateway can drive."""

    def models(self) -> Sequence[ModelInfo]:
        """The models this engine serves."""
        ...

    def tokenize_prompt(self, prompt: Prompt) -> list[int]:
        """Token ids of the prompt (chat messages through the model's chat template)."""
        ...

    def generate(
        self, request_id: str, prompt_token_ids: Sequence[int], sampling: SamplingSpec
    ) -> AsyncIterator[GenerationStep]:
        """Stream generation steps; closing the iterator aborts the request."""
        ...

    async def abort(self, request_id: str) -> None:
        """Stop a running request and free its resources."""
        ...

    async def health(self) -> EngineHealth:
        """Whether the engine can take requests now."""
        ...

    def stats(self) -> EngineStats | None:
        """The scheduler's latest state (cheap, never blocks, callable from any thread);
        None when this engine has no scheduler to report on."""
        ...

    async def shutdown(self) -> None:
        """Stop the engine and its worker processes."""
        ...
