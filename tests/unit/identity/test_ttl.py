"""Token lifetimes as people write them, and their bounds."""

from __future__ import annotations

import pytest

from gateway.errors import InvalidRequestError
from gateway.identity.ttl import checked_ttl, format_ttl, parse_ttl


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("3600s", 3600),
        ("30m", 1800),
        ("8h", 28800),
        ("7d", 604800),
        ("1s", 1),
        (" 8H ", 28800),
        ("0s", 0),
        ("000001m", 60),
    ],
)
def test_parse(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "",
        "8",
        "h",
        "8 h",
        "1.5h",
        "-5m",
        "+5m",
        "8hours",
        "1h30m",
        "1w",
        "1y",
        "٣h",
        "9" * 13 + "s",
    ],
)
def test_unreadable_lifetimes_are_refused_with_examples(text: str) -> None:
    with pytest.raises(InvalidRequestError, match=r"e\.g\. 3600s, 30m, 8h or 7d") as caught:
        parse_ttl(text)
    assert caught.value.param == "ttl"


def test_bounds() -> None:
    assert checked_ttl(1, 60) == 1
    assert checked_ttl(60, 60) == 60
    with pytest.raises(InvalidRequestError, match="positive"):
        checked_ttl(0, 60)
    with pytest.raises(InvalidRequestError, match=r"1m.*ENCLAVE_TOKEN_MAX_TTL_SECONDS"):
        checked_ttl(61, 60)


@pytest.mark.parametrize(
    ("seconds", "text"), [(28800, "8h"), (90 * 86400, "90d"), (90, "90s"), (120, "2m")]
)
def test_format(seconds: int, text: str) -> None:
    assert format_ttl(seconds) == text
