"""Check plain data against a msgspec type and report every problem, each at its own path.

msgspec stops at the first error and names dict entries ``[...]``; policy authors need all
problems at once with the exact key, so this walks the type and the data side by side.
"""

from __future__ import annotations

import re
import types
import typing
from typing import Any, Literal, Union

import msgspec

from gateway.policy.problems import FieldPath, FieldProblem, show_value

_AT_PATH = re.compile(r" - at `[^`]*`$")
_TYPE_WORDS = {
    "int": "an integer",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}
_BACKTICKED = re.compile(r"`(\w+)`")


def find_problems(value: object, annotation: Any, path: FieldPath = ()) -> list[FieldProblem]:
    """Every way ``value`` fails to be an ``annotation``; empty when it converts cleanly."""
    base = _strip_annotated(annotation)
    if value is not None and _is_optional(base):
        return find_problems(value, _without_none(base), path)
    if isinstance(base, type) and issubclass(base, msgspec.Struct) and isinstance(value, dict):
        problems = _struct_problems(value, base, path)
    elif typing.get_origin(base) is dict and isinstance(value, dict):
        problems = _dict_problems(value, base, path)
    elif typing.get_origin(base) in (list, tuple) and isinstance(value, list):
        problems = _sequence_problems(value, base, path)
    elif typing.get_origin(base) is Literal:
        return _literal_problems(value, base, path)
    else:
        problems = []
    return problems or _conversion_problems(value, annotation, path)


def _struct_problems(
    value: dict[str, Any], struct: type[msgspec.Struct], path: FieldPath
) -> list[FieldProblem]:
    fields = {info.encode_name: info for info in msgspec.structs.fields(struct)}
    problems = [
        FieldProblem((*path, key), f"unknown field (expected one of: {', '.join(fields)})")
        for key in value
        if key not in fields
    ]
    for name, info in fields.items():
        if name in value:
            problems += find_problems(value[name], info.type, (*path, name))
        elif info.required:
            problems.append(FieldProblem((*path, name), "missing (set it here or in a parent)"))
    return problems


def _dict_problems(value: dict[Any, Any], annotation: Any, path: FieldPath) -> list[FieldProblem]:
    key_type, value_type = typing.get_args(annotation)
    problems: list[FieldProblem] = []
    for key, item in value.items():
        key_problems = _conversion_problems(key, key_type, (*path, key))
        problems += [FieldProblem(p.path, f"not a valid name: {p.message}") for p in key_problems]
        problems += find_problems(item, value_type, (*path, key))
    return problems


def _sequence_problems(value: list[Any], annotation: Any, path: FieldPath) -> list[FieldProblem]:
    item_type = typing.get_args(annotation)[0]
    problems: list[FieldProblem] = []
    for index, item in enumerate(value):
        problems += find_problems(item, item_type, (*path, index))
    return problems


def _literal_problems(value: object, annotation: Any, path: FieldPath) -> list[FieldProblem]:
    choices = typing.get_args(annotation)
    if value in choices and isinstance(value, str):
        return []
    listed = ", ".join(str(choice) for choice in choices)
    return [FieldProblem(path, f"expected one of {listed}; got {show_value(value)}")]


def _conversion_problems(value: object, annotation: Any, path: FieldPath) -> list[FieldProblem]:
    try:
        msgspec.convert(value, annotation)
    except msgspec.ValidationError as exc:
        return [FieldProblem(path, describe_validation_error(str(exc), value, annotation))]
    return []


def describe_validation_error(message: str, value: object, annotation: Any = None) -> str:
    """msgspec's ``Expected `int`, got `str` - at `$.x``` → ``expected an integer >= 1, got "a"``.

    Bounds are said even when the type is what is wrong, and the value is shown as written.
    """
    text = _AT_PATH.sub("", message)
    if not text.startswith("Expected "):
        return text[:1].lower() + text[1:]
    wrong_type = ", got " in text
    text = _BACKTICKED.sub(
        lambda match: _TYPE_WORDS.get(match[1], match[1]), text.split(", got ")[0]
    )
    bounds = _bounds(annotation) if wrong_type else ""
    return f"e{text[1:]}{bounds}, got {show_value(value)}"


def _bounds(annotation: Any) -> str:
    """`` >= 1`` for ``Annotated[int, Meta(ge=1)]``."""
    if typing.get_origin(annotation) is not typing.Annotated:
        return ""
    parts = []
    for meta in typing.get_args(annotation)[1:]:
        if isinstance(meta, msgspec.Meta):
            parts += [f" {op} {bound}" for op, bound in _meta_bounds(meta) if bound is not None]
    return " and".join(parts)


def _meta_bounds(meta: msgspec.Meta) -> tuple[tuple[str, object], ...]:
    return ((">", meta.gt), (">=", meta.ge), ("<", meta.lt), ("<=", meta.le))


def _strip_annotated(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _is_optional(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    is_union = origin is Union or origin is types.UnionType
    return is_union and type(None) in typing.get_args(annotation)


def _without_none(annotation: Any) -> Any:
    remaining = tuple(arg for arg in typing.get_args(annotation) if arg is not type(None))
    return remaining[0] if len(remaining) == 1 else Union[remaining]  # noqa: UP007
