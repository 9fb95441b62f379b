"""A cached answer played back as engine steps, with this request's pseudonyms restored."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping

from engine.protocol import Delta, GenerationStep
from gateway.cache.entry import CachedChoice, CachedResponse
from gateway.redaction.pseudonyms import PseudonymTable


class ReplayedOutput:
    """One replayed choice as the audit sees it: stored text, placeholders in place."""

    def __init__(self, choice: CachedChoice) -> None:
        self._choice = choice

    @property
    def redacted_text(self) -> str:
        return self._choice.text

    @property
    def entity_counts(self) -> Mapping[str, int]:
        return self._choice.entity_counts


class Replay:
    """Steps as the engine would have given them (one per choice, whole text), then
    ``restore`` puts this request's originals back where the answer holds placeholders."""

    def __init__(self, entry: CachedResponse, pseudonyms: PseudonymTable) -> None:
        self._entry = entry
        self._pseudonyms = pseudonyms
        self.outputs = [ReplayedOutput(choice) for choice in entry.choices]

    async def steps(self) -> AsyncIterator[GenerationStep]:
        for index, choice in enumerate(self._entry.choices):
            delta = Delta(
                index=index,
                text=choice.text,
                completion_tokens=choice.completion_tokens,
                finish_reason=choice.finish_reason,
                logprobs=tuple(entry.to_engine() for entry in choice.logprobs),
            )
            yield GenerationStep(prompt_tokens=self._entry.prompt_tokens, deltas=(delta,))

    async def restore(self, step: GenerationStep) -> GenerationStep:
        if not len(self._pseudonyms):
            return step
        deltas = tuple(
            dataclasses.replace(delta, text=self._pseudonyms.restore(delta.text))
            for delta in step.deltas
        )
        return dataclasses.replace(step, deltas=deltas)
