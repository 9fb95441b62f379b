"""Read one YAML policy file into plain data, remembering the line of every key and item."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from gateway.policy.problems import FieldPath, Problem, format_field_path, show_value

MAX_DEPTH = 16
"""Deeper nesting than any policy needs; also stops self-referencing aliases."""
MAX_NODES = 20_000
"""More values than any policy needs; also stops alias bombs ("billion laughs")."""


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """A policy file's content with the line where each key or list item is written."""

    name: str
    """The file's stem: the department it applies to."""
    file: str
    """The path as shown in problems (``policies/finance.yaml``)."""
    data: dict[str, Any]
    lines: Mapping[FieldPath, int]


class DocumentUnreadable(Exception):
    """The file could not be read or parsed; ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


def read_document(path: Path) -> SourceDocument:
    """Parse ``path``; raise ``DocumentUnreadable`` with every problem found in it."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise DocumentUnreadable([Problem(file, None, "", f"cannot read: {reason}")]) from None
    builder = _TreeBuilder(file, yaml.SafeLoader(text))
    data = builder.build_document()
    if builder.problems:
        raise DocumentUnreadable(builder.problems)
    return SourceDocument(name=path.stem, file=file, data=data, lines=builder.lines)


@dataclass
class _TreeBuilder:
    """Turns composed YAML nodes into dicts, lists and scalars, noting lines as it goes."""

    file: str
    loader: yaml.SafeLoader
    lines: dict[FieldPath, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    node_count: int = 0

    def build_document(self) -> dict[str, Any]:
        try:
            root = self.loader.get_single_node()
            return self._top_level(root)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 1
            reason = ": ".join(part for part in (exc.context, exc.problem) if part)
            self.problems.append(Problem(self.file, line, "", f"YAML syntax: {reason}"))
        except yaml.YAMLError as exc:
            self.problems.append(Problem(self.file, 1, "", f"YAML syntax: {exc}"))
        except _Abandon:
            pass  # already reported where it happened
        finally:
            self.loader.dispose()
        return {}

    def _top_level(self, root: Node | None) -> dict[str, Any]:
        if root is None:
            return {}
        if not isinstance(root, MappingNode):
            self._problem(root, (), "expected a mapping of sections (models, limits, pii, ...)")
            return {}
        return self._mapping(root, ())

    def _build(self, node: Node, path: FieldPath) -> Any:
        self.node_count += 1
        if len(path) > MAX_DEPTH or self.node_count > MAX_NODES:
            self._problem(node, path, "nested too deeply or too large for a policy")
            raise _Abandon
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return self._sequence(node, path)
        return self.loader.construct_object(node)

    def _mapping(self, node: MappingNode, path: FieldPath) -> dict[str, Any]:
        self.loader.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            if key is None:
                continue
            if key in result:
                self._problem(key_node, (*path, key), "duplicate key (the later one would win)")
            self.lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = self._build(value_node, (*path, key))
        return result

    def _sequence(self, node: SequenceNode, path: FieldPath) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            self.lines[(*path, index)] = item.start_mark.line + 1
            items.append(self._build(item, (*path, index)))
        return items

    def _key(self, node: Node, path: FieldPath) -> str | None:
        if not isinstance(node, ScalarNode):
            self._problem(node, path, "keys must be text, got a mapping or list")
            return None
        key = self.loader.construct_object(node)
        if isinstance(key, str):
            return key
        self._problem(node, path, f"keys must be text, got {show_value(key)}")
        return None

    def _problem(self, node: Node, path: FieldPath, message: str) -> None:
        line = node.start_mark.line + 1
        self.problems.append(Problem(self.file, line, format_field_path(path), message))


class _Abandon(Exception):
    """Stop building a section that is too deep or too large (already reported)."""
