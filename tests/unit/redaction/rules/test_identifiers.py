"""US social security numbers and Chinese resident IDs, with their validity rules."""

from __future__ import annotations

import pytest

from tests.unit.redaction.rules.support import found, full_width, zero_width


@pytest.mark.parametrize(
    ("text", "ssn"),
    [
        ("SSN 432-23-8945 on file", "432-23-8945"),
        ("078.05.1123", "078.05.1123"),
        ("078 05 1123", "078 05 1123"),
        ("他的美国社保号是219-09-9999,用于报税", "219-09-9999"),
        ("my social security number is 219099999", "219099999"),  # nine digits need context
        (full_width("SSN 432-23-8945"), "432-23-8945"),
        (zero_width("SSN 432-23-8945"), "432-23-8945"),
    ],
)
def test_social_security_numbers_are_found(text: str, ssn: str) -> None:
    assert found(text, "US_SSN") == [ssn]


@pytest.mark.parametrize(
    "text",
    [
        "078-05-0000",  # serial 0000 is never issued
        "078 00 1123",  # group 00
        "666-12-3456",  # area 666
        "912-70-1234",  # 9xx: a taxpayer number (ITIN)
        "078-05-1120",  # the voided "Woolworth" number
        "111-11-1111",
        "078-05.1123",  # mixed separators
        "order 219099999 shipped",  # nine bare digits without context
        "ORD-219-09-9999",  # the tail of a code
        "call 212-555-0123",  # a phone number
        "2024-05-01",
    ],
)
def test_ssn_look_alikes_are_not(text: str) -> None:
    assert found(text, "US_SSN") == []


@pytest.mark.parametrize(
    ("text", "identifier"),
    [
        ("身份证 11010519491231002X", "11010519491231002X"),
        ("身份证号码是440301199003071230,请核对", "440301199003071230"),
        ("ID 11010519491231002x.", "11010519491231002x"),
        (full_width("身份证11010519491231002X"), "11010519491231002X"),
        (zero_width("11010519491231002X"), "11010519491231002X"),
    ],
)
def test_resident_ids_with_a_valid_check_character_are_found(text: str, identifier: str) -> None:
    assert found(text, "CN_RESIDENT_ID") == [identifier]


@pytest.mark.parametrize(
    "text",
    [
        "批次编号110105194912310021处理失败",  # wrong check character
        "110105194902301234",  # 30 February
        "ref 1101051949123100210",  # 19 digits
    ],
)
def test_resident_id_look_alikes_are_not(text: str) -> None:
    assert found(text, "CN_RESIDENT_ID") == []


@pytest.mark.parametrize(
    "text",
    ["SSN: 123-45-6789", "her social security number is 912-70-1234", "ssn 078-05-1120"],
)
def test_numbers_never_issued_still_count_when_called_an_ssn(text: str) -> None:
    """Sample and never-issued numbers are ignored alone, but where the writer says it is an
    SSN the gateway redacts it rather than trust the issuing rules."""
    assert len(found(text, "US_SSN")) == 1
