"""An engine that answers at once, for measuring the gateway's own cost. Never a default.

It is chosen only by ``ENCLAVE_ENGINE=instant`` (benchmarks and multi-replica tests of the
gateway's gates); every real deployment, ``make run`` and the end-to-end tests use vLLM.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence

from engine.protocol import (
    Delta,
    EngineHealth,
    EngineStats,
    FinishReason,
    GenerationStep,
    ModelInfo,
    Prompt,
    SamplingSpec,
)

ANSWER_WORDS = (
    "This",
    " is",
    " an",
    " instant",
    " answer",
    " from",
    " the",
    " benchmark",
    " engine.",
)


class InstantEngine:
    """Counts one token per whitespace-separated word and answers with a fixed sentence."""

    def __init__(self, model_name: str, max_model_len: int) -> None:
        self._model = ModelInfo(
            name=model_name, max_model_len=max_model_len, created=int(time.time())
        )

    def models(self) -> Sequence[ModelInfo]:
        return (self._model,)

    def tokenize_prompt(self, prompt: Prompt) -> list[int]:
        if prompt.messages is None:
            text = prompt.text or ""
        else:
            text = " ".join(f"{m.role}: {m.content}" for m in prompt.messages)
        return [len(word) for word in text.split()]

    async def generate(
        self, request_id: str, prompt_token_ids: Sequence[int], sampling: SamplingSpec
    ) -> AsyncIterator[GenerationStep]:
        length = min(sampling.max_tokens or len(ANSWER_WORDS), len(ANSWER_WORDS))
        reason: FinishReason = "length" if length < len(ANSWER_WORDS) else "stop"
        text = "".join(ANSWER_WORDS[:length])
        deltas = tuple(
            Delta(index=index, text=text, completion_tokens=length, finish_reason=reason)
            for index in range(sampling.n)
        )
        yield GenerationStep(prompt_tokens=len(prompt_token_ids), deltas=deltas)

    async def abort(self, request_id: str) -> None:
        return None

    async def health(self) -> EngineHealth:
        return EngineHealth(ready=True, device="none", detail="instant benchmark engine")

    def stats(self) -> EngineStats | None:
        """None: answers are instant, there is no scheduler or KV cache to report on."""
        return None

    async def shutdown(self) -> None:
        return None
