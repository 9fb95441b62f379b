"""Fold a stream of engine steps into finished choices (for non-streaming responses)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from engine.protocol import GenerationStep, TokenLogprob
from gateway.wire.responses import FinishReason, Usage


@dataclass(slots=True)
class FinishedChoice:
    index: int
    text_parts: list[str] = field(default_factory=list)
    completion_tokens: int = 0
    finish_reason: FinishReason = "stop"
    logprobs: list[TokenLogprob] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)


@dataclass(slots=True)
class Collected:
    prompt_tokens: int = 0
    choices: dict[int, FinishedChoice] = field(default_factory=dict)

    def ordered(self) -> list[FinishedChoice]:
        return [self.choices[index] for index in sorted(self.choices)]

    def usage(self) -> Usage:
        completion = sum(choice.completion_tokens for choice in self.choices.values())
        return usage_of(self.prompt_tokens, completion)


def usage_of(prompt_tokens: int, completion_tokens: int) -> Usage:
    return Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        total_tokens=prompt_tokens + completion_tokens,
    )


def wire_finish_reason(reason: str | None) -> FinishReason | None:
    """The engine's reason as OpenAI spells it (an abort only happens once the client left)."""
    if reason is None:
        return None
    return "length" if reason == "length" else "stop"


async def collect(steps: AsyncIterator[GenerationStep], n: int) -> Collected:
    collected = Collected(choices={index: FinishedChoice(index=index) for index in range(n)})
    async for step in steps:
        collected.prompt_tokens = step.prompt_tokens
        for delta in step.deltas:
            choice = collected.choices[delta.index]
            choice.text_parts.append(delta.text)
            choice.completion_tokens = delta.completion_tokens
            choice.logprobs.extend(delta.logprobs)
            choice.finish_reason = wire_finish_reason(delta.finish_reason) or choice.finish_reason
    return collected
