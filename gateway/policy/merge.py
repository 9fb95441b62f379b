"""Merge a policy over its parent, remembering which file and line every value came from.

Mappings merge key by key (a child's ``limits: {max_tokens: 512}`` keeps the parent's other
limits); lists and scalars are replaced whole. ``extends`` and ``description`` belong to
one file and are never inherited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.policy.problems import FieldPath, FieldProblem, Problem, format_field_path
from gateway.policy.source import SourceDocument

NOT_INHERITED = ("extends", "description")


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class LayeredDocument:
    """Merged data of a policy and its parents, with the origin of every key."""

    data: dict[str, Any]
    origins: Mapping[FieldPath, Location]
    root_file: str
    """The file at the top of the ``extends`` chain: where a missing section belongs."""

    def locate(self, problem: FieldProblem) -> Problem:
        """Tie ``problem`` to the file and line that set the closest enclosing value."""
        for end in range(len(problem.path), 0, -1):
            origin = self.origins.get(problem.path[:end])
            if origin is not None:
                return Problem(
                    origin.file, origin.line, format_field_path(problem.path), problem.message
                )
        return Problem(self.root_file, 1, format_field_path(problem.path), problem.message)


def single_layer(document: SourceDocument) -> LayeredDocument:
    origins = {path: Location(document.file, line) for path, line in document.lines.items()}
    return LayeredDocument(data=document.data, origins=origins, root_file=document.file)


def merge_over(parent: LayeredDocument, child: SourceDocument) -> LayeredDocument:
    """``child`` on top of ``parent``."""
    base = {key: value for key, value in parent.data.items() if key not in NOT_INHERITED}
    kept_origins = {
        path: origin
        for path, origin in parent.origins.items()
        if path[0] not in NOT_INHERITED and not _replaced_by(child.data, path)
    }
    own_origins = {path: Location(child.file, line) for path, line in child.lines.items()}
    return LayeredDocument(
        data=deep_merge(base, child.data),
        origins=kept_origins | own_origins,
        root_file=parent.root_file,
    )


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            merged[key] = deep_merge(below, value)
        else:
            merged[key] = value
    return merged


def _replaced_by(top: Mapping[str, Any], path: FieldPath) -> bool:
    """Whether ``top`` sets ``path`` itself or replaces a list or scalar enclosing it."""
    node: Any = top
    for part in path:
        if not isinstance(node, dict):
            return True
        if part not in node:
            return False
        node = node[part]
    return True
