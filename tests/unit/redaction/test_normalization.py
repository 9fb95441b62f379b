"""Invisible characters and compatibility forms do not hide personal data."""

from __future__ import annotations

import pytest

from gateway.redaction import PiiAnalyzer
from gateway.redaction.normalize import normalize_text
from tests.unit.redaction.policies import full_width, policy, rule

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("j\u200bohn@exam\u200dple.com", "john@example.com"),  # zero-width space and joiner
        ("\u2066card\u2069 4111\u00ad1111", "card 41111111"),  # bidi isolates, soft hyphen
        (full_width("13812345678"), "13812345678"),  # full-width digits
        (full_width("jane@example.com"), "jane@example.com"),  # full-width letters
        ("tag\U000e0041\U000e0042s", "tags"),  # invisible tag characters
        ("keep\ttabs\nand lines\r\n", "keep\ttabs\nand lines\r\n"),
        ("no\u00a0break", "no break"),
    ],
)
def test_normalize_text(raw: str, normalized: str) -> None:
    assert normalize_text(raw) == normalized


async def test_an_email_with_zero_width_characters_inside_is_redacted(
    analyzer: PiiAnalyzer,
) -> None:
    result = await analyzer.redact_input(
        ["mail j\u200bane.d\u200coe@exa\ufeffmple.com now"], policy(EMAIL_ADDRESS=rule("redact"))
    )
    assert result.texts == ("mail <EMAIL_ADDRESS> now",)


async def test_a_mobile_number_in_full_width_digits_is_redacted(analyzer: PiiAnalyzer) -> None:
    result = await analyzer.redact_input(
        ["手机" + full_width(":13812345678")], policy(CN_MOBILE=rule("redact"))
    )
    assert result.texts == ("手机:<CN_MOBILE>",)


async def test_the_engine_receives_the_normalized_text(analyzer: PiiAnalyzer) -> None:
    result = await analyzer.redact_input(
        [full_width("hi") + "\u200b there"], policy(EMAIL_ADDRESS=rule("redact"))
    )
    assert result.texts == ("hi there",)
