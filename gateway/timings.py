"""Where one request's time went: the gateway's own share, the engine's, the first token."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from litestar.types import Scope

TIMINGS_KEY = "timings"


@dataclass(slots=True)
class RequestTimings:
    started: float = field(default_factory=time.perf_counter)
    engine_started: float | None = None
    first_token: float | None = None
    engine_finished: float | None = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def engine_seconds(self) -> float | None:
        if self.engine_started is None:
            return None
        finished = self.engine_finished or time.perf_counter()
        return finished - self.engine_started

    def time_to_first_token(self) -> float | None:
        return None if self.first_token is None else self.first_token - self.started


def timings_of(scope: Scope) -> RequestTimings:
    """The timings the request-context middleware attached (a fresh one if there are none)."""
    state = scope.setdefault("state", {})
    timings = state.get(TIMINGS_KEY)
    if not isinstance(timings, RequestTimings):
        timings = RequestTimings()
        state[TIMINGS_KEY] = timings
    return timings
