"""Phone numbers checked against numbering plans, Chinese mobiles, and numbers that are not."""

from __future__ import annotations

import pytest

from tests.unit.redaction.rules.support import found, full_width, zero_width


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Call (415) 555-0132 after five", "(415) 555-0132"),
        ("reach me on 212-555-0199", "212-555-0199"),
        ("office 617.253.1000", "617.253.1000"),
        ("+1 415 796 3421 extension 12", "+1 415 796 3421"),
        ("+1-212-736-5000", "+1-212-736-5000"),
        ("London office +44 20 7946 0958", "+44 20 7946 0958"),
        ("美国同事的电话是713-880-8917,请在晚上打", "713-880-8917"),
        ("my phone number is 4258829090", "4258829090"),  # bare digits need the context
        ("my phone number is:(425) 882-9090", "(425) 882-9090"),
        ("Phone number: (555) 253-0000.", "(555) 253-0000"),  # unassigned, but said to be one
        (full_width("call 212-555-0199"), "212-555-0199"),
        (zero_width("212-555-0199"), "212-555-0199"),
        ("call 212 555 0199 now", "212 555 0199"),
    ],
)
def test_phone_numbers_are_found(text: str, number: str) -> None:
    assert found(text, "PHONE_NUMBER") == [number]


def test_national_numbers_with_a_trunk_zero_need_context() -> None:
    text = "try one of these phones 052 5552606 074-7111234"
    assert found(text, "PHONE_NUMBER") == ["052 5552606", "074-7111234"]
    assert found("batch 052 5552606 done", "PHONE_NUMBER") == []


@pytest.mark.parametrize(
    "text",
    [
        "Order ORD-2024-000123 has shipped",
        "Invoice INV-1234-56789 is due",
        "Part number PN-123-4567 costs $12.50",
        "released on 2024-05-01 at 10:30",
        "Batch 5123456789 finished",  # ten bare digits, no context, no valid area code
        "Serial number 4111111111111112",
        "Quarterly revenue grew 12.5% to $1,234,567.89",
        "version 10.2.3.4567",
        "本次共处理64580588571条记录",
        "(555) 253-0000 was printed on the poster",  # unassigned and no context
    ],
)
def test_phone_look_alikes_are_not(text: str) -> None:
    assert found(text, "PHONE_NUMBER") == []


@pytest.mark.parametrize(
    ("text", "mobile"),
    [
        ("我的手机号是13812345678,有事联系我", "13812345678"),
        ("手机138 1234 5678", "138 1234 5678"),
        ("phone +86 139-1234-5678.", "+86 139-1234-5678"),
        ("电话:+8615063779217", "+8615063779217"),
        (full_width("手机13812345678"), "13812345678"),
        (zero_width("13812345678"), "13812345678"),
        ("call me on 15912345678", "15912345678"),
    ],
)
def test_chinese_mobiles_are_found(text: str, mobile: str) -> None:
    assert found(text, "CN_MOBILE") == [mobile]


@pytest.mark.parametrize(
    "text",
    [
        "call 12812345678",  # 12x is no mobile prefix
        "order 138123456789 shipped",  # 12 digits
        "serial 1381234567",  # 10 digits
        "订单号20240501123已发货",  # 11 digits, but not a mobile range
        "tracking SF13812345678901",
        "版本1.3812345678",
    ],
)
def test_chinese_mobile_look_alikes_are_not(text: str) -> None:
    assert found(text, "CN_MOBILE") == []


def test_an_eleven_digit_chinese_mobile_is_not_also_a_us_number() -> None:
    assert found("手机15012345678", "PHONE_NUMBER") == []
