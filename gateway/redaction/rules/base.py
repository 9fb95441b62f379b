"""The shape of the gateway's own recognizers: a regex, a check, a score, context words.

A ``PatternRule`` finds candidates with one compiled regex, asks its ``check`` how sure
a candidate is (``None`` drops it: a bad checksum, an impossible number), and adds
``CONTEXT_BOOST`` when one of its context words is written near the candidate, the way
Presidio's context enhancer does, but over characters instead of lemmas, so it works for
Chinese (``手机13812345678``) as well as English (``my phone is ...``).

Boundaries are look-arounds on ASCII letters and digits, never ``\\b``: Chinese
characters are word characters, so ``电话13812345678`` has no ``\\b`` before the number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from gateway.redaction.findings import Finding

BEFORE = r"(?<![0-9A-Za-z])"
"""No ASCII letter or digit right before (Chinese characters and punctuation are fine)."""
AFTER = r"(?![0-9A-Za-z])"
"""No ASCII letter or digit right after."""

CONTEXT_BOOST = 0.35
"""Added to a candidate's score when a context word is near (Presidio's factor)."""
CONTEXT_ONLY_SCORE = 0.15
"""The score of a candidate that has the entity's shape but fails its check (a mistyped
card number, a sample SSN): reported only where a context word names the type, and then
just at the usual threshold (0.15 + ``CONTEXT_BOOST`` = 0.5). Strict where the text says
what the number is, quiet on order numbers and test data without such words."""
CONTEXT_BEFORE_CHARS = 48
"""How far before a candidate context words count (about five English words)."""
CONTEXT_AFTER_CHARS = 16
"""How far after a candidate context words count (``张伟的手机`` reads left to right)."""

Check = Callable[[str], float | None]
"""A candidate's text → its score, or ``None`` when it is not the entity after all."""


class Rule(Protocol):
    """Something that finds one entity type in a text, without Presidio."""

    @property
    def entity_type(self) -> str: ...

    def find(self, text: str, lowered: str) -> Iterable[Finding]:
        """Findings in ``text``; ``lowered`` is ``text.lower()`` (same length), for context."""
        ...


def has_context(lowered: str, start: int, end: int, words: Iterable[str]) -> bool:
    """Whether one of ``words`` (lower case) is written close before or after a span."""
    before = lowered[max(0, start - CONTEXT_BEFORE_CHARS) : start]
    after = lowered[end : end + CONTEXT_AFTER_CHARS]
    return any(word in before or word in after for word in words)


@dataclass(frozen=True, slots=True)
class PatternRule:
    """One entity type found by one regex, checked, then scored with context."""

    entity_type: str
    pattern: re.Pattern[str]
    check: Check
    context: tuple[str, ...] = ()
    """Lower-case words that make a candidate more certain when written near it."""
    group: int | str = 0
    """The regex group that is the entity (the rest of the match is only context)."""

    def find(self, text: str, lowered: str) -> list[Finding]:
        findings: list[Finding] = []
        for match in self.pattern.finditer(text):
            start, end = match.span(self.group)
            score = self.check(text[start:end])
            if score is None:
                continue
            if score < 1.0 and self.context and has_context(lowered, start, end, self.context):
                score = min(1.0, score + CONTEXT_BOOST)
            findings.append(Finding(self.entity_type, start, end, round(score, 2)))
        return findings


def fixed_score(score: float) -> Check:
    """A check that accepts every candidate the regex matched, at ``score``."""

    def check(_candidate: str) -> float:
        return score

    return check
