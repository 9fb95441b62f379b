"""Token usage of one generation as it streams: what rate limits settle and audits record."""

from __future__ import annotations

import time

from engine.protocol import GenerationStep


class UsageTally:
    """Prompt tokens plus the latest completion-token count of every choice."""

    def __init__(self, prompt_tokens: int) -> None:
        self.prompt_tokens = prompt_tokens
        self.per_choice: dict[int, int] = {}
        self._last_keep_alive = time.monotonic()

    def observe(self, step: GenerationStep) -> None:
        self.prompt_tokens = step.prompt_tokens
        for delta in step.deltas:
            self.per_choice[delta.index] = delta.completion_tokens

    @property
    def completion_tokens(self) -> int:
        return sum(self.per_choice.values())

    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def due_for_keep_alive(self, interval_seconds: float) -> bool:
        now = time.monotonic()
        if now - self._last_keep_alive < interval_seconds:
            return False
        self._last_keep_alive = now
        return True
