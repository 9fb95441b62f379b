"""Where a stream's held-back tail starts (pure logic, no analyzer)."""

from __future__ import annotations

import pytest

from gateway.redaction.holdback import hold_back_for

PATTERN_TYPES = ["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE"]


@pytest.mark.parametrize(
    ("text", "held"),
    [
        ("Hello, how are", "are"),  # may still become are@example.com
        ("Hello, how are ", ""),
        ("Call me at +1 212 55", "+1 212 55"),
        ("card 4111 1111 ", "4111 1111 "),
        ("my IBAN is DE89 3704", "DE89 3704"),
        ("write to <PERS", "<PERS"),  # a placeholder being echoed
        ("email: jane@exam", "jane@exam"),
    ],
)
def test_shaped_types_hold_back_only_what_may_still_grow(text: str, held: str) -> None:
    hold_back = hold_back_for(PATTERN_TYPES, {}, window=64)
    assert text[hold_back.start(text, 0) :] == held


def test_types_without_a_shape_hold_a_window_cut_at_a_blank() -> None:
    hold_back = hold_back_for(["PERSON"], {}, window=20)
    text = "We met with the new head of the Berlin office yesterday"
    start = hold_back.start(text, 0)
    assert len(text) - start >= 20
    assert text[start - 1] == " "
    assert text[start:] == "Berlin office yesterday"


def test_nothing_released_is_held_again() -> None:
    hold_back = hold_back_for(["PERSON"], {}, window=64)
    assert hold_back.start("short text", 4) == 4
