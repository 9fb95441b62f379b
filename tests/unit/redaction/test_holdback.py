"""Where a stream's held-back tail starts (pure logic, no analyzer)."""

from __future__ import annotations

import random

import pytest

from gateway.redaction.holdback import HoldBack, hold_back_for

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


def held_from_every_position(hold_back: HoldBack, text: str, released: int) -> int:
    """The definition: the first position whose rest may still grow into some shape."""
    hold = len(text)
    for shape in hold_back.shapes:
        low = max(released, len(text) - shape.max_length)
        for position in range(low, hold):
            if shape.pattern.fullmatch(text, position, partial=True) is not None:
                hold = position
                break
    return hold


@pytest.mark.parametrize("seed", range(20))
def test_a_stream_scanner_holds_exactly_what_a_full_rescan_holds(seed: int) -> None:
    """Remembering ruled-out positions across deltas changes nothing a caller sees, also
    when released text moves out of the buffer (``offset``)."""
    rng = random.Random(seed)
    alphabet = "ab Z@.:-+()0123456789<>_/xX\n"
    hold_back = hold_back_for([*PATTERN_TYPES, "IP_ADDRESS", "US_SSN"], {}, window=64)
    scanner = hold_back.scanner()
    buffer, offset, released = "", 0, 0
    for _ in range(60):
        buffer += "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6)))
        expected = held_from_every_position(hold_back, buffer, released)
        assert scanner.start(buffer, released, offset) == expected, (buffer, released)
        if rng.random() < 0.3 and expected > released:  # release up to the hold, keep context
            keep = buffer[:expected][-8:]
            offset += expected - len(keep)
            buffer, released = keep + buffer[expected:], len(keep)
