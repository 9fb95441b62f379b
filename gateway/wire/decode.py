"""Decode a JSON body into a request struct, turning msgspec's errors into OpenAI errors."""

from __future__ import annotations

import re
from typing import TypeVar

import msgspec

from gateway.errors import InvalidRequestError, UnsupportedParameterError

RequestT = TypeVar("RequestT", bound=msgspec.Struct)

_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `([^`]*)`(?: - at `\$\.?(.*)`)?")
_AT_PATH = re.compile(r" - at `\$\.?(.*)`$")


def decode_request(body: bytes, request_type: type[RequestT]) -> RequestT:
    """Decode ``body`` as ``request_type`` or raise a 400 that names the offending field."""
    if not body.strip():
        raise InvalidRequestError("request body is empty; send a JSON object", code="invalid_json")
    try:
        return msgspec.json.decode(body, type=request_type)
    except msgspec.ValidationError as exc:
        raise _validation_error(str(exc)) from None
    except msgspec.DecodeError as exc:
        raise InvalidRequestError(
            f"request body is not valid JSON: {exc}", code="invalid_json"
        ) from None


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
