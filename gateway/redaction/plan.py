"""Which entity types one direction of a policy looks for, and what it does with each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gateway.policy.schema import EntityRule, PiiAction, PiiPolicy

if TYPE_CHECKING:  # Presidio is imported only once the analyzer is built (offline set-up first).
    from presidio_analyzer import EntityRecognizer

Direction = Literal["input", "output"]


def rules_for(pii: PiiPolicy, direction: Direction) -> dict[str, EntityRule]:
    """The rules that apply to ``direction``; ``allow`` rules are left out (not looked for)."""
    return {
        entity: rule
        for entity, rule in pii.entities.items()
        if rule.action != "allow" and rule.direction in (direction, "both")
    }


def thresholds_for(pii: PiiPolicy, rules: Mapping[str, EntityRule]) -> dict[str, float]:
    """Each rule's lowest score that counts: its own threshold, else the policy's."""
    return {
        entity: pii.score_threshold if rule.score_threshold is None else rule.score_threshold
        for entity, rule in rules.items()
    }


INLINE_MAX_CHARS = 1024
"""Text up to this long (a stream's window, a short prompt) is screened on the event loop
when the plan needs only the gateway's regex rules (well under 0.1 ms): a worker-thread hop
would cost more than the analysis, and at thousands of tokens a second the hops, not the
regexes, become the limit."""


@dataclass(frozen=True, slots=True)
class DetectionPlan:
    """What to look for in one direction of one policy. Built once per policy content."""

    rules: Mapping[str, EntityRule]
    """Entity type → rule, for the types this direction looks for."""
    thresholds: Mapping[str, float]
    """Entity type → lowest score that counts (the rule's own, else the policy's)."""
    needs_ner: bool = False
    """Whether a type needs the statistical NER model (names, places); if not, tokens suffice."""
    custom_recognizers: tuple[EntityRecognizer, ...] = ()
    """The policy's own recognizers for the types it defines."""
    rules_only: bool = False
    """Every type is found by the gateway's own regex rules (no Presidio, no spaCy): a
    short text is screened in tens of microseconds, less than a hop to a worker thread."""

    @property
    def entities(self) -> list[str]:
        return sorted(self.rules)

    @property
    def lowest_threshold(self) -> float:
        return min(self.thresholds.values(), default=1.0)

    @property
    def custom_entities(self) -> frozenset[str]:
        return frozenset(
            entity
            for recognizer in self.custom_recognizers
            for entity in recognizer.supported_entities
        )

    def screens_inline(self, chars: int) -> bool:
        """Whether ``chars`` characters are screened on the event loop (see
        ``INLINE_MAX_CHARS``) rather than in a worker thread."""
        return self.rules_only and chars <= INLINE_MAX_CHARS

    def action(self, entity_type: str) -> PiiAction:
        return self.rules[entity_type].action
