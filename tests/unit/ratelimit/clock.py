"""A wall clock that tests move by hand, so that windows never roll over by surprise."""

from __future__ import annotations

from dataclasses import dataclass, field

# 10 s into a clock minute: windows of 60 s end 50 s later, windows of 1 s at :11.
MINUTE_START = 1_800_000_000.0
TEN_SECONDS_IN = MINUTE_START + 10.0


@dataclass
class FakeClock:
    now: float = field(default=TEN_SECONDS_IN)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
