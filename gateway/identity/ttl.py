"""Token lifetimes written the way people say them: ``30m``, ``8h``, ``7d``, ``3600s``."""

from __future__ import annotations

import re

from gateway.errors import InvalidRequestError

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
TTL_PATTERN = re.compile(r"(?P<amount>[0-9]{1,12})(?P<unit>[smhd])")


def parse_ttl(text: str) -> int:
    """Seconds in ``text`` (a whole number and one unit: s, m, h or d)."""
    match = TTL_PATTERN.fullmatch(text.strip().lower())
    if match is None:
        raise InvalidRequestError(
            f"cannot read the lifetime {text!r}: write a whole number and a unit, "
            "e.g. 3600s, 30m, 8h or 7d",
            param="ttl",
            code="invalid_ttl",
        )
    return int(match["amount"]) * UNIT_SECONDS[match["unit"]]


def checked_ttl(seconds: int, max_seconds: int) -> int:
    """``seconds`` if it is positive and at most ``max_seconds``."""
    if seconds <= 0:
        raise InvalidRequestError(
            "token lifetime must be positive", param="ttl", code="invalid_ttl"
        )
    if seconds > max_seconds:
        raise InvalidRequestError(
            f"token lifetime {format_ttl(seconds)} exceeds the maximum of "
            f"{format_ttl(max_seconds)} (ENCLAVE_TOKEN_MAX_TTL_SECONDS)",
            param="ttl",
            code="invalid_ttl",
        )
    return seconds


def format_ttl(seconds: int) -> str:
    """The largest unit that divides ``seconds`` exactly: 28800 -> ``8h``."""
    for unit in ("d", "h", "m"):
        if seconds % UNIT_SECONDS[unit] == 0 and seconds >= UNIT_SECONDS[unit]:
            return f"{seconds // UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"
