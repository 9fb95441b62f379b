"""Small PII policies for the tests, built in code."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.policy.schema import (
    CustomRecognizer,
    EntityRule,
    PiiAction,
    PiiDirection,
    PiiPolicy,
    RecognizerPattern,
)


def rule(
    action: PiiAction, direction: PiiDirection = "both", threshold: float | None = None
) -> EntityRule:
    return EntityRule(action=action, direction=direction, score_threshold=threshold)


def policy(
    threshold: float = 0.5,
    recognizers: Mapping[str, CustomRecognizer] | None = None,
    **entities: EntityRule,
) -> PiiPolicy:
    return PiiPolicy(
        score_threshold=threshold, entities=dict(entities), recognizers=dict(recognizers or {})
    )


def employee_ids(*context: str) -> dict[str, CustomRecognizer]:
    """A policy recognizer for ``EMP-123456`` (0.4 alone, so context must lift it over 0.5)."""
    pattern = RecognizerPattern(regex=r"\bEMP-\d{6}\b", score=0.4)
    return {"EMPLOYEE_ID": CustomRecognizer(patterns=(pattern,), context=context)}


def full_width(text: str) -> str:
    """``text`` in full-width forms (U+FF01 to U+FF5E), as East Asian keyboards type it."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)
