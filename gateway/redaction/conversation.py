"""Find entities across a whole conversation, including ones split between messages.

Messages are analysed together, joined by a blank line, so context in one message (the
word "phone" in a question) helps with the next, and Presidio runs once per request.
A value split across two messages (``my number is 138 1234`` + ``5678``) is not in that
text; it is found by a second, cheaper pass over the seams: the last and first
``SEAM_CHARS`` characters around each boundary, concatenated without a separator, where
only findings that cross a boundary count. Every finding is then cut into its pieces per
message, which keep the whole value for pseudonymization.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from gateway.redaction.detector import Detector
from gateway.redaction.findings import Finding
from gateway.redaction.plan import DetectionPlan

MESSAGE_SEPARATOR = "\n\n"
SEAM_CHARS = 64
"""How far either side of a message boundary a split value is looked for."""


@dataclass(frozen=True, slots=True)
class EntityPiece:
    """The part of one finding that lies in one message."""

    message: int
    start: int
    end: int
    entity_type: str
    score: float
    entity_id: int
    """Shared by the pieces of one finding (one entity split between messages)."""
    value: str = field(repr=False)
    """The whole finding's text, across messages. Personal data: never log it."""


def find_in_conversation(
    detector: Detector, texts: Sequence[str], plan: DetectionPlan
) -> list[EntityPiece]:
    """Every entity piece in ``texts``, in no particular order (overlaps not yet settled)."""
    ids = itertools.count()
    joined = _Layout(texts, MESSAGE_SEPARATOR)
    pieces = list(joined.pieces(detector.find(joined.text, plan), ids))
    if len(texts) > 1:
        pieces += _pieces_across_seams(detector, texts, plan, ids)
    return pieces


def _pieces_across_seams(
    detector: Detector, texts: Sequence[str], plan: DetectionPlan, ids: Iterator[int]
) -> list[EntityPiece]:
    tight = _Layout(texts, "")
    windows = _seam_windows(tight.boundaries, len(tight.text))
    fragments = _Layout([tight.text[start:end] for start, end in windows], MESSAGE_SEPARATOR)
    crossing: list[Finding] = []
    for finding in detector.find(fragments.text, plan, use_ner=False):
        window, offset = fragments.locate(finding.start)
        shift = windows[window][0] - offset
        moved = Finding(
            finding.entity_type, finding.start + shift, finding.end + shift, finding.score
        )
        if any(moved.start < boundary < moved.end for boundary in tight.boundaries):
            crossing.append(moved)
    return list(tight.pieces(crossing, ids))


def _seam_windows(boundaries: Sequence[int], length: int) -> list[tuple[int, int]]:
    """Merged ranges of ``SEAM_CHARS`` either side of each boundary."""
    windows: list[tuple[int, int]] = []
    for boundary in boundaries:
        start, end = max(0, boundary - SEAM_CHARS), min(length, boundary + SEAM_CHARS)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


class _Layout:
    """Texts joined by a separator, and the way back from a position to a text."""

    def __init__(self, texts: Sequence[str], separator: str) -> None:
        self.text = separator.join(texts)
        self.starts: list[int] = []
        position = 0
        for text in texts:
            self.starts.append(position)
            position += len(text) + len(separator)
        self.lengths = [len(text) for text in texts]

    @property
    def boundaries(self) -> list[int]:
        """Where each text after the first begins (only meaningful without a separator)."""
        return self.starts[1:]

    def locate(self, position: int) -> tuple[int, int]:
        """The index of the text holding ``position`` (or the separator after it), its start."""
        index = bisect.bisect_right(self.starts, position) - 1
        return index, self.starts[index]

    def pieces(self, findings: Sequence[Finding], ids: Iterator[int]) -> Iterator[EntityPiece]:
        for finding in findings:
            entity_id = next(ids)
            value = self.text[finding.start : finding.end]
            for index, (start, length) in enumerate(zip(self.starts, self.lengths, strict=True)):
                piece_start = max(finding.start, start) - start
                piece_end = min(finding.end, start + length) - start
                if piece_start < piece_end:
                    yield EntityPiece(
                        message=index,
                        start=piece_start,
                        end=piece_end,
                        entity_type=finding.entity_type,
                        score=finding.score,
                        entity_id=entity_id,
                        value=value,
                    )
