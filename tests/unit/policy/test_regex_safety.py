"""Custom recognizer regexes that could hang the gateway on a crafted prompt are refused."""

from __future__ import annotations

import pytest

from gateway.policy.regex_safety import regex_problem


@pytest.mark.parametrize(
    "pattern",
    [
        r"\bEMP-\d{6}\b",
        r"(?:\+?86)?1[3-9]\d{9}",
        r"[A-Z]{2}\d{2}(?:\s?\d{4}){4}",  # a short fixed repeat around an optional part
        r"(\d{3}-)+\d{4}",  # fixed-length body under +
        r"(?>a+)+b",  # atomic group: nothing backtracks into it
        r"(?:a++)+b",  # possessive inner quantifier
        r"(?<![\w-])PRJ-[A-Z]{3}-\d{4}(?![\w-])",
    ],
)
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    assert regex_problem(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a+)+b", "nested quantifier"),
        (r"(a*)*b", "nested quantifier"),
        (r"(\w+\s?)+$", "nested quantifier"),
        (r"(?:x(?:a|b+)c)*", "nested quantifier"),  # nested inside a group and a branch
        (r"(a{1,2})+b", "nested quantifier"),  # bounded but variable inside unbounded
        (r"(?:a?){20}", "nested quantifier"),  # long bounded repeat counts as unbounded
        (r"(?=(a+)+)b", "nested quantifier"),  # inside a lookahead
        (r"(a)\1", "backreference"),
        (r"(?P<x>a)(?P=x)", "backreference"),
        (r"a**", "does not compile"),
        (r"[z-a]", "does not compile"),
        (r"x?", "matches the empty string"),
        ("a" * 600, "600 characters long; the limit is 512"),
    ],
)
def test_slow_or_broken_patterns_are_refused(pattern: str, reason: str) -> None:
    problem = regex_problem(pattern)
    assert problem is not None
    assert reason in problem
