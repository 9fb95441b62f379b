"""Stand-ins for personal data within one request: ``<PERSON_1>`` for the first name, and back."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"<([A-Z][A-Z0-9_]*)_([1-9][0-9]*)>")
"""A numbered stand-in as the engine sees it (and may echo)."""


class PseudonymTable:
    """Placeholder ↔ original for one request. Lives in memory only; never logged or stored.

    The same value gets the same placeholder every time; different values of one type get
    consecutive numbers. ``repr`` shows how many, never what.
    """

    __slots__ = ("_counters", "_originals", "_placeholders")

    def __init__(self) -> None:
        self._placeholders: dict[tuple[str, str], str] = {}
        self._originals: dict[str, str] = {}
        self._counters: dict[str, int] = {}

    def placeholder_for(self, entity_type: str, value: str) -> str:
        """The stand-in for ``value``, created on first use."""
        key = (entity_type, value)
        existing = self._placeholders.get(key)
        if existing is not None:
            return existing
        number = self._counters.get(entity_type, 0) + 1
        self._counters[entity_type] = number
        placeholder = f"<{entity_type}_{number}>"
        self._placeholders[key] = placeholder
        self._originals[placeholder] = value
        return placeholder

    def original(self, placeholder: str) -> str | None:
        """The value behind ``placeholder``, or None if this request never made it."""
        return self._originals.get(placeholder)

    def restore(self, text: str) -> str:
        """``text`` with every placeholder of this table replaced by its original."""
        return PLACEHOLDER.sub(lambda m: self._originals.get(m.group(0), m.group(0)), text)

    def __len__(self) -> int:
        return len(self._originals)

    def __contains__(self, placeholder: object) -> bool:
        return placeholder in self._originals

    def __repr__(self) -> str:
        return f"PseudonymTable({len(self)} placeholders)"
