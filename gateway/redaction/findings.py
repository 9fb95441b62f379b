"""What a detector reports, and how overlapping reports are settled."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar


@dataclass(frozen=True, slots=True)
class Finding:
    """One entity found in an analysed text: its type, where, and how sure. Never its value."""

    entity_type: str
    start: int
    end: int
    score: float

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


class Span(Protocol):
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def score(self) -> float: ...


SpanT = TypeVar("SpanT", bound=Span)


@dataclass(frozen=True, slots=True)
class Covered(Generic[SpanT]):
    """A run of overlapping spans, replaced as one: their union, named after the best."""

    start: int
    end: int
    best: SpanT
    """The most certain span of the run (then the longest)."""


def cover_overlaps(spans: Iterable[SpanT]) -> list[Covered[SpanT]]:
    """Overlapping spans merged, in text order, so no part of any of them stays visible."""
    covered: list[Covered[SpanT]] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if covered and span.start < covered[-1].end:
            last = covered[-1]
            best = span if _rank(span) > _rank(last.best) else last.best
            covered[-1] = Covered(last.start, max(last.end, span.end), best)
        else:
            covered.append(Covered(span.start, span.end, span))
    return covered


def _rank(span: Span) -> tuple[float, int]:
    return (span.score, span.end - span.start)
