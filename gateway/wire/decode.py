"""Decode a JSON body into a request struct, turning msgspec's errors into OpenAI errors."""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec

from gateway.errors import InvalidRequestError, UnsupportedParameterError
from gateway.wire.text_safety import INVALID_ENCODING, has_lone_surrogate_escape, refuse_unsafe_text

RequestT = TypeVar("RequestT", bound=msgspec.Struct)

_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `([^`]*)`(?: - at `\$\.?(.*)`)?")
_AT_PATH = re.compile(r" - at `\$\.?(.*)`$")


def decode_request(body: bytes, request_type: type[RequestT]) -> RequestT:
    """Decode ``body`` as ``request_type`` or raise a 400 that names the offending field.

    Nesting depth needs no separate limit: every field has a concrete type, so decoding stops
    at the first level that does not fit (an unknown field is refused at its name).
    """
    if not body.strip():
        raise InvalidRequestError("request body is empty; send a JSON object", code="invalid_json")
    try:
        request = msgspec.json.decode(body, type=request_type)
    except msgspec.ValidationError as exc:
        raise _validation_error(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise _decode_error(body, exc) from None
    except UnicodeDecodeError:  # msgspec before 0.23; later releases raise DecodeError
        raise _not_utf8() from None
    refuse_unsafe_text(request)
    return request


def _not_utf8() -> InvalidRequestError:
    return InvalidRequestError("request body is not valid UTF-8", code=INVALID_ENCODING)


def _decode_error(body: bytes, exc: msgspec.DecodeError) -> InvalidRequestError:
    if not _is_utf8(body):
        return _not_utf8()
    if has_lone_surrogate_escape(body):
        return InvalidRequestError(
            "request body holds a lone UTF-16 surrogate escape (\\ud800-\\udfff without its "
            "pair); send valid Unicode",
            code=INVALID_ENCODING,
        )
    return InvalidRequestError(f"request body is not valid JSON: {exc}", code="invalid_json")


def _validation_error(message: str) -> InvalidRequestError:
    unknown = _UNKNOWN_FIELD.match(message)
    if unknown:
        name, parent = unknown.group(1), unknown.group(2)
        param = f"{parent}.{name}" if parent else name
        return UnsupportedParameterError(
            f"parameter '{param}' is not supported by this server", param=param
        )
    at = _AT_PATH.search(message)
    param = at.group(1) if at else None
    text = message[: at.start()] if at else message
    where = f" at '{param}'" if param else ""
    return InvalidRequestError(f"invalid request{where}: {text}", param=param)


def _is_utf8(body: bytes) -> bool:
    """Strict UTF-8: encoded surrogates and overlong forms (``\\xc0\\x80``) are refused too."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
