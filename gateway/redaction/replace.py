"""Put replacement text over spans of a text."""

from __future__ import annotations

from collections.abc import Iterable


def replace_spans(text: str, replacements: Iterable[tuple[int, int, str]]) -> str:
    """``text`` with each ``(start, end, new)`` applied; the spans must not overlap."""
    pieces: list[str] = []
    position = 0
    for start, end, new in sorted(replacements):
        pieces.append(text[position:start])
        pieces.append(new)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
