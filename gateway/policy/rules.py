"""Checks that need more than a type: names that must exist, regexes that must be safe."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import msgspec

from gateway.policy.entities import ANY_PARAMETER, KNOWN_ENTITIES, KNOWN_PARAMETERS
from gateway.policy.problems import FieldProblem
from gateway.policy.regex_safety import regex_problem
from gateway.policy.schema import PiiPolicy, RequestLimits

SectionT = TypeVar("SectionT")


def rule_problems(data: Mapping[str, Any], broken_sections: set[str]) -> list[FieldProblem]:
    """Unknown names, unsafe regexes and loose ends in every section that is well typed."""
    problems: list[FieldProblem] = []
    problems += _section_problems(data, broken_sections, "limits", RequestLimits, _limits_problems)
    problems += _section_problems(data, broken_sections, "pii", PiiPolicy, _pii_problems)
    return problems


def _section_problems(
    data: Mapping[str, Any],
    broken_sections: set[str],
    name: str,
    section_type: type[SectionT],
    check: Callable[[SectionT], Iterator[FieldProblem]],
) -> list[FieldProblem]:
    if name in broken_sections or name not in data:
        return []
    try:
        section = msgspec.convert(data[name], section_type)
    except msgspec.ValidationError:
        return []  # reported by the type check
    return list(check(section))


def _limits_problems(limits: RequestLimits) -> Iterator[FieldProblem]:
    for index, name in enumerate(limits.allowed_parameters):
        if name != ANY_PARAMETER and name not in KNOWN_PARAMETERS:
            known = ", ".join(sorted(KNOWN_PARAMETERS))
            yield FieldProblem(
                ("limits", "allowed_parameters", index),
                f'unknown request parameter "{name}" (known: {known}, or "*" for all)',
            )


def _pii_problems(pii: PiiPolicy) -> Iterator[FieldProblem]:
    for entity in pii.entities:
        if entity not in KNOWN_ENTITIES and entity not in pii.recognizers:
            yield FieldProblem(
                ("pii", "entities", entity),
                "unknown entity type; use one of Presidio's (PERSON, EMAIL_ADDRESS, ...) "
                "or define it under pii.recognizers",
            )
    for entity, recognizer in pii.recognizers.items():
        if entity not in pii.entities:
            yield FieldProblem(
                ("pii", "recognizers", entity),
                f"no rule for this entity; add pii.entities.{entity} with an action",
            )
        for index, pattern in enumerate(recognizer.patterns):
            problem = regex_problem(pattern.regex)
            if problem is not None:
                path = ("pii", "recognizers", entity, "patterns", index, "regex")
                yield FieldProblem(path, problem)
