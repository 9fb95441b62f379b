"""What is wrong with a policy file, said as ``file:line: field: problem``."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gateway.errors import ConfigurationError

FieldPath = tuple[str | int, ...]
"""Where a value sits in a policy document: mapping keys and list positions."""


def format_field_path(path: FieldPath) -> str:
    """``("pii", "entities", "PERSON", "action")`` → ``pii.entities.PERSON.action``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """A problem found in a document before it is tied to a file and line."""

    path: FieldPath
    message: str


@dataclass(frozen=True, slots=True)
class Problem:
    """One actionable problem in one policy file."""

    file: str
    line: int | None
    """1-based line; None when the file itself is missing or unreadable."""
    field: str
    """Dotted field path (``limits.max_tokens``); empty for problems about the whole file."""
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.field:
            return f"{where}: {self.field}: {self.message}"
        return f"{where}: {self.message}"

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file, self.line or 0, self.field, self.message)


class PolicyError(ConfigurationError):
    """The policy files cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        heading = "1 problem" if count == 1 else f"{count} problems"
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{heading} in the policy files:\n{lines}")


def sorted_unique(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in file and line order, each reported once (inherited ones repeat)."""
    return sorted(set(problems), key=Problem.sort_key)


def show_value(value: object) -> str:
    """A value as it reads in YAML, short enough for one line of an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:56] + '..."'
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
