"""Text the gateway refuses before any analysis: NUL characters and lone UTF-16 surrogates.

msgspec already refuses bodies that are not UTF-8 and most lone surrogate escapes, but a
``\\u0000`` escape decodes to a perfectly legal Python string. NUL ends C strings in the
tokenizer, the NLP pipeline and PostgreSQL text columns, so such text is refused with 400
before the PII analyzer, the tokenizer or the audit trail ever see it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import msgspec

from gateway.errors import InvalidRequestError

INVALID_CHARACTER = "invalid_character"
INVALID_ENCODING = "invalid_encoding"

_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
_LONE_SURROGATE_ESCAPE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def refuse_unsafe_text(request: msgspec.Struct) -> None:
    """Raise 400 naming the first field whose text holds a NUL or a lone surrogate."""
    for path, text in _strings(request, ""):
        found = _FORBIDDEN.search(text)
        if found is None:
            continue
        if found.group() == "\x00":
            raise InvalidRequestError(
                f"'{path}' contains a NUL character (\\u0000); remove it",
                param=path,
                code=INVALID_CHARACTER,
            )
        raise InvalidRequestError(
            f"'{path}' contains a lone UTF-16 surrogate; send valid Unicode",
            param=path,
            code=INVALID_ENCODING,
        )


def has_lone_surrogate_escape(body: bytes) -> bool:
    """Whether the raw JSON holds a ``\\ud800``-style escape with no partner (a hint only)."""
    return b"\\u" in body and _LONE_SURROGATE_ESCAPE.search(body) is not None


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, msgspec.Struct):
        names = zip(value.__struct_fields__, value.__struct_encode_fields__, strict=True)
        for attribute, name in names:
            yield from _strings(getattr(value, attribute), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key, path)
            yield from _strings(item, f"{path}.{key}" if path else str(key))
