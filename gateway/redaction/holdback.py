"""How much of a streamed completion's end must wait, so no entity is cut in two.

Text is released only up to a point where no entity can straddle it. For most types a
*shape* (a permissive pattern every prefix of such an entity matches) says where an
entity might still be growing at the end: the earliest position from which the rest of
the text is a prefix of that shape. ``Call me at +1 212 55`` holds back ``+1 212 55``;
``Hello, how are`` holds back only ``are`` (it could become ``are@example.com``). Types
without a shape (names, places, dates found by the statistical model, the country IDs)
hold back a fixed window of the last characters, cut back to a blank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import regex

from gateway.policy.entities import KNOWN_ENTITIES
from gateway.policy.schema import CustomRecognizer


@dataclass(frozen=True, slots=True)
class EntityShape:
    """A superset of one entity type's matches, tested against the end of the text."""

    pattern: regex.Pattern[str]
    max_length: int
    """The longest such entity; positions further back are never held for this shape."""
    tail: regex.Pattern[str] = field(init=False, compare=False)
    """``pattern`` anchored at the end of the text."""

    def __post_init__(self) -> None:
        tail = regex.compile(rf"(?:{self.pattern.pattern})\Z", self.pattern.flags)
        object.__setattr__(self, "tail", tail)

    def earliest_start(self, text: str, low: int, high: int) -> int:
        """The first position in ``[low, high)`` from which the rest of ``text`` is, or may
        grow into, a match (``high`` if there is none): one partial search, in C."""
        found = self.tail.search(text, low, partial=True)
        return high if found is None or found.start() >= high else found.start()


def _shape(pattern: str, max_length: int) -> EntityShape:
    return EntityShape(regex.compile(pattern), max_length)


_EMAIL = _shape(r"[\w.!#$%&'*+/=?^`{|}~-]+(?:@[\w.-]*)?", 254)
_PHONE = _shape(r"[+(\d][\d\s().\-/]*", 40)
_DIGIT_GROUPS = _shape(r"\d[\d\s-]*", 32)
BUILTIN_SHAPES: Mapping[str, EntityShape] = {
    "EMAIL_ADDRESS": _EMAIL,
    "URL": _shape(r"[^\s<>\"]+", 256),
    "PHONE_NUMBER": _PHONE,
    "CN_MOBILE": _PHONE,
    "CREDIT_CARD": _DIGIT_GROUPS,
    "US_SSN": _shape(r"\d[\d\s.-]*", 16),
    "CN_RESIDENT_ID": _shape(r"\d[\dXx]*", 18),
    "IBAN_CODE": _shape(r"[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){0,32}[ -]?", 48),
    "IP_ADDRESS": _shape(r"[0-9A-Fa-f:.]+(?:/\d{0,3})?", 50),
}
"""Shapes of the built-in types that have one; other types use the fixed window."""

PLACEHOLDER_SHAPE = _shape(r"<[A-Z][A-Z0-9_]*>", 72)
"""A pseudonym placeholder echoed by the engine (``<PERSON_1>``) must be restored whole."""


def policy_shape(definition: CustomRecognizer, max_length: int) -> EntityShape | None:
    """A policy type's own patterns as its shape, or None if ``regex`` cannot compile them."""
    combined = "|".join(f"(?:{pattern.regex})" for pattern in definition.patterns)
    try:
        return EntityShape(regex.compile(combined), max_length)
    except regex.error:
        return None


@dataclass(frozen=True, slots=True)
class HoldBack:
    """Where the held-back tail of a stream starts."""

    shapes: tuple[EntityShape, ...]
    fixed_window: int | None
    """Characters always held for types without a shape; None when every type has one."""

    def start(self, text: str, released: int) -> int:
        """The first position of ``text`` (at or after ``released``) that must wait."""
        return self.scanner().start(text, released)

    def scanner(self) -> TailScanner:
        """A scanner for one stream, which remembers what it already ruled out."""
        return TailScanner(self)


class TailScanner:
    """``HoldBack.start`` for one growing stream, without re-testing ruled-out positions.

    If ``text[p:]`` cannot grow into a match of a shape (no partial match), no longer text
    can either: the mismatch is already there. So each shape keeps the stream position
    before which nothing can start it, and a call tests only the positions after that —
    a few per token instead of every held position for every shape. Positions are counted
    from the start of the stream: ``offset`` is where ``text[0]`` is in it.
    """

    def __init__(self, hold_back: HoldBack) -> None:
        self._hold_back = hold_back
        self._ruled_out = [0] * len(hold_back.shapes)

    def start(self, text: str, released: int, offset: int = 0) -> int:
        """The first position of ``text`` (at or after ``released``) that must wait;
        ``released`` and the stream's length only ever grow between calls."""
        hold_back = self._hold_back
        hold = len(text)
        if hold_back.fixed_window is not None:
            hold = _window_start(text, released, hold_back.fixed_window)
        for index, shape in enumerate(hold_back.shapes):
            low = max(released, len(text) - shape.max_length, self._ruled_out[index] - offset)
            found = shape.earliest_start(text, low, hold)
            # Positions before ``low`` are released, out of reach or ruled out already;
            # those from ``low`` to ``found`` were just tested and failed.
            self._ruled_out[index] = max(low, found) + offset
            hold = found
        return hold


def _window_start(text: str, released: int, window: int) -> int:
    """``window`` characters from the end, moved back to just after a blank if one is near."""
    target = len(text) - window
    if target <= released:
        return released
    blank = max(text.rfind(" ", released, target), text.rfind("\n", released, target))
    return blank + 1 if blank >= target - window else target


def hold_back_for(
    entities: Iterable[str], policy_shapes: Mapping[str, EntityShape | None], window: int
) -> HoldBack:
    """The hold-back for a stream that looks for ``entities``.

    ``policy_shapes`` has the shapes of the policy's own types (None where a pattern would
    not compile for partial matching). A built-in type without a shape, or a policy type
    without one, makes the stream hold back the fixed ``window`` as well.
    """
    shapes: list[EntityShape] = [PLACEHOLDER_SHAPE]
    needs_window = False
    for entity in entities:
        candidates: list[EntityShape | None] = []
        if entity in KNOWN_ENTITIES or entity not in policy_shapes:
            candidates.append(BUILTIN_SHAPES.get(entity))
        if entity in policy_shapes:
            candidates.append(policy_shapes[entity])
        for shape in candidates:
            if shape is None:
                needs_window = True
            elif shape not in shapes:
                shapes.append(shape)
    return HoldBack(tuple(shapes), fixed_window=window if needs_window else None)
