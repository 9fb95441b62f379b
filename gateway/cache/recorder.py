"""What a miss leaves in the cache, gathered while its answer streams to the caller."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.protocol import GenerationStep, TokenLogprob
from gateway.cache.entry import CachedChoice, CachedResponse, logprobs_of
from gateway.redaction.screened import ScreenedOutput


@dataclass(slots=True)
class _ChoiceFacts:
    completion_tokens: int = 0
    finish_reason: str | None = None
    logprobs: list[TokenLogprob] = field(default_factory=list)


class CacheRecorder:
    """Watches the engine's own steps (before output filtering) of one request.

    Text is taken at the end from the output filters (``redacted_text``): that is the answer
    after redaction and before pseudonyms are restored, which is safe to store.
    """

    def __init__(self, n: int, *, active: bool) -> None:
        self.active = active
        self._prompt_tokens = 0
        self._choices = [_ChoiceFacts() for _ in range(n)]

    def observe(self, step: GenerationStep) -> None:
        if not self.active:
            return
        self._prompt_tokens = step.prompt_tokens
        for delta in step.deltas:
            facts = self._choices[delta.index]
            facts.completion_tokens = delta.completion_tokens
            facts.logprobs.extend(delta.logprobs)
            facts.finish_reason = delta.finish_reason or facts.finish_reason

    def entry(self, outputs: Sequence[ScreenedOutput]) -> CachedResponse | None:
        """The answer to store, or None when some choice did not finish on its own."""
        choices = []
        for facts, output in zip(self._choices, outputs, strict=True):
            if facts.finish_reason not in ("stop", "length"):
                return None
            choices.append(
                CachedChoice(
                    text=output.redacted_text,
                    completion_tokens=facts.completion_tokens,
                    finish_reason="stop" if facts.finish_reason == "stop" else "length",
                    logprobs=logprobs_of(tuple(facts.logprobs)),
                    entity_counts=dict(output.entity_counts),
                )
            )
        return CachedResponse(prompt_tokens=self._prompt_tokens, choices=tuple(choices))
