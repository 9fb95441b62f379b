"""A small in-memory engine for unit and integration tests of the gateway (never for e2e)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from engine.protocol import (
    Delta,
    EngineError,
    EngineHealth,
    EngineStats,
    GenerationStep,
    ModelInfo,
    Prompt,
    PromptRenderError,
    SamplingSpec,
    TokenLogprob,
)

ECHO_MODEL = "echo-model"
ROLE_MARKERS = {"system:", "user:", "assistant:"}


class EchoEngine:
    """Answers by repeating the last message's words, one word per token.

    Every word is one token; chat prompts are rendered as ``role: content`` words.
    """

    def __init__(
        self, *, max_model_len: int = 256, fail_after_tokens: int | None = None, delay: float = 0.0
    ) -> None:
        self.max_model_len = max_model_len
        self.fail_after_tokens = fail_after_tokens
        self.delay = delay
        self.ready = True
        self.vocabulary: list[str] = []
        self.started: list[str] = []
        self.finished: list[str] = []
        self.aborted: list[str] = []
        self.shut_down = False
        self.running = 0
        """Generations in progress now (what ``stats`` reports)."""
        self.kv_cache_usage = 0.0
        """What ``stats`` reports as KV-cache usage (set it to test the gauge)."""

    def models(self) -> Sequence[ModelInfo]:
        return (ModelInfo(name=ECHO_MODEL, max_model_len=self.max_model_len, created=1700000000),)

    def tokenize_prompt(self, prompt: Prompt) -> list[int]:
        if prompt.messages is None:
            return [self._token_id(word) for word in (prompt.text or "").split()]
        if prompt.messages[-1].role == "assistant":
            raise PromptRenderError("conversation must not end with an assistant message")
        text = " ".join(f"{m.role}: {m.content}" for m in prompt.messages)
        return [self._token_id(word) for word in text.split()]

    async def generate(
        self, request_id: str, prompt_token_ids: Sequence[int], sampling: SamplingSpec
    ) -> AsyncIterator[GenerationStep]:
        self.started.append(request_id)
        words = self._words_to_echo(prompt_token_ids)
        limit = min(sampling.max_tokens or len(words), len(words))
        text = ""
        self.running += 1
        try:
            for position, word in enumerate(words[:limit]):
                if self.fail_after_tokens is not None and position >= self.fail_after_tokens:
                    raise EngineError("echo engine failure injected")
                await asyncio.sleep(self.delay)
                piece = word if position == 0 else " " + word
                text += piece
                reason = _finish_reason(position + 1, len(words), limit, text, sampling.stop)
                deltas = tuple(
                    self._delta(index, piece, position + 1, reason, sampling)
                    for index in range(sampling.n)
                )
                yield GenerationStep(prompt_tokens=len(prompt_token_ids), deltas=deltas)
                if reason:
                    break
            self.finished.append(request_id)
        except (asyncio.CancelledError, GeneratorExit):
            self.aborted.append(request_id)
            raise
        finally:
            self.running -= 1

    def _words_to_echo(self, prompt_token_ids: Sequence[int]) -> list[str]:
        words = [self.vocabulary[token] for token in prompt_token_ids]
        markers = [i for i, word in enumerate(words) if word in ROLE_MARKERS]
        start = markers[-1] + 1 if markers else 0
        return words[start:] or ["(empty)"]

    def _delta(
        self, index: int, piece: str, count: int, reason: str | None, sampling: SamplingSpec
    ) -> Delta:
        logprobs: tuple[TokenLogprob, ...] = ()
        if sampling.logprobs is not None:
            alternatives = tuple((f"alt{rank}", -float(rank)) for rank in range(1, 21))
            logprobs = (TokenLogprob(token=piece, logprob=-0.5, top=alternatives),)
        return Delta(
            index=index,
            text=piece,
            completion_tokens=count,
            finish_reason=reason,  # type: ignore[arg-type]
            logprobs=logprobs,
        )

    async def abort(self, request_id: str) -> None:
        self.aborted.append(request_id)

    async def health(self) -> EngineHealth:
        return EngineHealth(ready=self.ready, device="memory")

    def stats(self) -> EngineStats:
        return EngineStats(running=self.running, waiting=0, kv_cache_usage=self.kv_cache_usage)

    async def shutdown(self) -> None:
        self.shut_down = True

    def _token_id(self, word: str) -> int:
        if word not in self.vocabulary:
            self.vocabulary.append(word)
        return self.vocabulary.index(word)


def _finish_reason(
    produced: int, available: int, limit: int, text: str, stops: tuple[str, ...]
) -> str | None:
    if any(stop in text for stop in stops) or produced == available:
        return "stop"
    return "length" if produced == limit else None
