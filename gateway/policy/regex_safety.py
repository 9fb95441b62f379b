"""Refuse custom-recognizer regexes that could hang the gateway on a crafted prompt.

Python's ``re`` backtracks: ``(a+)+b`` takes exponential time on ``aaaa…c``. Every prompt
runs through every recognizer, so a slow pattern is a denial of service. The check is
structural (on the parsed pattern), not a timing test:

- the pattern must compile and stay under ``MAX_REGEX_LENGTH`` characters;
- no variable-length repeat inside an unbounded (or long) repeat: ``(a+)+``, ``(\\w*\\s?)*``,
  ``(a{1,2})+`` are refused, ``(\\s?\\d{4}){4}`` is fine;
- no backreferences (``(a)\\1``), whose matching is not polynomial;
- it must not match the empty string (it would "find" the entity everywhere).

Ambiguous alternations under a repeat (``(a|aa)+``) are not detected; review those by eye.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from gateway.policy.schema import MAX_REGEX_LENGTH

_REPEATS = {"MAX_REPEAT", "MIN_REPEAT"}
"""Backtracking repeats; possessive repeats and atomic groups never backtrack into."""
_BACKREFERENCES = {"GROUPREF", "GROUPREF_EXISTS"}
_NO_BACKTRACK_INTO = {"ATOMIC_GROUP", "POSSESSIVE_REPEAT"}
_SMALL_REPEAT = 8
"""A repeat of at most this many iterations bounds the ways to split text (2**8 per position)."""


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` is refused, or None when it is acceptable."""
    if len(pattern) > MAX_REGEX_LENGTH:
        return f"regex is {len(pattern)} characters long; the limit is {MAX_REGEX_LENGTH}"
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return f"regex does not compile: {exc}"
    parser: Any = importlib.import_module("re._parser")
    problem = _structure_problem(parser.parse(pattern), inside_repeat=False)
    if problem is not None:
        return problem
    if compiled.search("") is not None:
        return "regex matches the empty string; it would match everywhere"
    return None


def _structure_problem(subpattern: Any, *, inside_repeat: bool) -> str | None:
    for op, argument in subpattern:
        name = str(op)
        if name in _BACKREFERENCES:
            return "regex uses a backreference, which can take exponential time"
        if name in _REPEATS:
            problem = _repeat_problem(argument, inside_repeat=inside_repeat)
        else:
            problem = _children_problem(name, argument, inside_repeat=inside_repeat)
        if problem is not None:
            return problem
    return None


def _repeat_problem(argument: Any, *, inside_repeat: bool) -> str | None:
    low, high, item = argument
    if inside_repeat and low != high:  # the same text splits many ways between iterations
        return (
            "regex has a nested quantifier (like (a+)+), which can take exponential time; "
            "use a single quantifier or a possessive one (a++)"
        )
    return _structure_problem(item, inside_repeat=inside_repeat or high > _SMALL_REPEAT)


def _children_problem(name: str, argument: Any, *, inside_repeat: bool) -> str | None:
    # Nothing outside an atomic group or possessive repeat backtracks into it: start afresh.
    fresh = name in _NO_BACKTRACK_INTO
    for child in _child_patterns(name, argument):
        problem = _structure_problem(child, inside_repeat=inside_repeat and not fresh)
        if problem is not None:
            return problem
    return None


def _child_patterns(name: str, argument: Any) -> list[Any]:
    if name == "SUBPATTERN":
        return [argument[3]]
    if name == "BRANCH":
        return list(argument[1])
    if name in ("ASSERT", "ASSERT_NOT"):
        return [argument[1]]
    if name == "ATOMIC_GROUP":
        return [argument]
    if name == "POSSESSIVE_REPEAT":
        return [argument[2]]
    return []
