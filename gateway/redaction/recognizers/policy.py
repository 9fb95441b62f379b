"""Recognizers a department's policy defines for its own entity types (employee IDs...)."""

from __future__ import annotations

from collections.abc import Mapping

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer

from gateway.policy.schema import CustomRecognizer


def policy_recognizers(
    definitions: Mapping[str, CustomRecognizer],
) -> tuple[EntityRecognizer, ...]:
    """One pattern recognizer per entity type, its regexes applied exactly as written.

    No implicit flags (Presidio's default adds IGNORECASE): a policy author who wants
    case-insensitive matching writes ``(?i)``. The regexes were checked for catastrophic
    backtracking when the policy was loaded (``gateway/policy/regex_safety.py``).
    """
    return tuple(
        PatternRecognizer(
            supported_entity=entity,
            name=f"PolicyRecognizer:{entity}",
            patterns=[
                Pattern(f"{entity} pattern {index + 1}", pattern.regex, pattern.score)
                for index, pattern in enumerate(definition.patterns)
            ],
            context=list(definition.context),
            global_regex_flags=0,
        )
        for entity, definition in definitions.items()
    )
