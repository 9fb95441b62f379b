"""Run the gateway's rules the way the detector does: on normalized text, at a threshold."""

from __future__ import annotations

from gateway.redaction.normalize import normalize_text
from gateway.redaction.rules import RuleSet, default_rules

RULES = RuleSet(default_rules())


def found(text: str, entity: str, threshold: float = 0.5) -> list[str]:
    """The values of type ``entity`` the rules report in ``text`` (normalized first)."""
    normalized = normalize_text(text)
    return [
        normalized[finding.start : finding.end]
        for finding in sorted(RULES.find(normalized, [entity]), key=lambda f: f.start)
        if finding.score >= threshold
    ]


def full_width(text: str) -> str:
    """``text`` in full-width forms (U+FF01 to U+FF5E), as East Asian keyboards type it."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def zero_width(text: str) -> str:
    """``text`` with a zero-width space after every character (invisible when shown)."""
    return "\u200b".join(text)
