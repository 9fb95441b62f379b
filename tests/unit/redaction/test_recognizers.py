"""The recognizers the gateway adds: valid values are found, look-alikes with bad checksums not."""

from __future__ import annotations

import pytest
from presidio_analyzer import AnalyzerEngine

from gateway.redaction.presidio_detector import PresidioDetector
from tests.unit.redaction.policies import employee_ids, policy, rule


def found(detector: PresidioDetector, text: str, entity: str) -> list[str]:
    plan = detector.plan(policy(**{entity: rule("redact")}), "input")
    return [text[f.start : f.end] for f in detector.find(text, plan) if f.entity_type == entity]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("call me on 13812345678", "13812345678"),
        ("mobile: 138 1234 5678, thanks", "138 1234 5678"),
        ("phone +86 139-1234-5678.", "+86 139-1234-5678"),
        ("我的手机号是15912345678\uff0c谢谢", "15912345678"),
    ],
)
def test_chinese_mobile_numbers_are_found(
    detector: PresidioDetector, text: str, number: str
) -> None:
    assert found(detector, text, "CN_MOBILE") == [number]


@pytest.mark.parametrize(
    "text",
    [
        "call 12812345678",  # 12x is no mobile prefix
        "order 138123456789 shipped",  # 12 digits
        "serial 1381234567",  # 10 digits
    ],
)
def test_digit_strings_that_are_not_chinese_mobiles(detector: PresidioDetector, text: str) -> None:
    assert found(detector, text, "CN_MOBILE") == []


@pytest.mark.parametrize(
    "identifier", ["11010519491231002X", "11010519491231002x", "440301199003071230"]
)
def test_resident_ids_with_a_valid_check_character_are_found(
    detector: PresidioDetector, identifier: str
) -> None:
    assert found(detector, f"身份证 {identifier}", "CN_RESIDENT_ID") == [identifier]


@pytest.mark.parametrize(
    "identifier",
    [
        "110105194912310021",  # wrong check character (should be X)
        "440301199003071231",  # wrong check character (should be 0)
        "110105194902301234",  # 30 February
    ],
)
def test_resident_ids_with_a_bad_checksum_or_date_are_ignored(
    detector: PresidioDetector, identifier: str
) -> None:
    assert found(detector, f"ID {identifier}", "CN_RESIDENT_ID") == []


@pytest.mark.parametrize(
    "card",
    [
        "2221000000000009",  # Mastercard 2-series, lowest range
        "2720 9900 0000 0007",  # Mastercard 2-series, highest range, grouped
        "6212345678901232",  # UnionPay, 16 digits
        "621234567890123457",  # UnionPay, 18 digits
        "6225880000000000002",  # UnionPay, 19 digits
    ],
)
def test_mastercard_2_series_and_unionpay_numbers_are_cards(
    detector: PresidioDetector, card: str
) -> None:
    text = f"pay with {card} today"
    assert found(detector, text, "CREDIT_CARD") == [card]


@pytest.mark.parametrize(
    "card", ["2221000000000008", "2720 9900 0000 0001", "6225880000000000001", "2721000000000004"]
)
def test_card_numbers_failing_luhn_or_outside_the_ranges_are_ignored(
    detector: PresidioDetector, card: str
) -> None:
    assert found(detector, f"pay with {card} today", "CREDIT_CARD") == []


def test_presidio_alone_misses_the_new_card_ranges(presidio_defaults: AnalyzerEngine) -> None:
    for card in ("2221000000000009", "6225880000000000002"):
        results = presidio_defaults.analyze(f"card {card}", language="en", entities=["CREDIT_CARD"])
        assert results == []


IBANS_FOLLOWED_BY_WORDS = [
    ("BE68539007547034 please", "BE68539007547034"),
    ("IBAN BE68 5390 0754 7034 thanks a lot", "BE68 5390 0754 7034"),
    ("AT611904300234573201 quickly", "AT611904300234573201"),
    ("DE89370400440532013000 please", "DE89370400440532013000"),
    ("send to de89 3704 0044 0532 0130 00 today", "de89 3704 0044 0532 0130 00"),
]


@pytest.mark.parametrize(("text", "iban"), IBANS_FOLLOWED_BY_WORDS)
def test_ibans_followed_by_words_are_found(
    detector: PresidioDetector, text: str, iban: str
) -> None:
    assert found(detector, text, "IBAN_CODE") == [iban]


def test_presidio_alone_misses_ibans_whose_last_group_meets_a_word(
    presidio_defaults: AnalyzerEngine,
) -> None:
    for text in ("BE68539007547034 please", "AT611904300234573201 quickly"):
        assert presidio_defaults.analyze(text, language="en", entities=["IBAN_CODE"]) == []


def test_two_ibans_in_a_row_are_both_found(detector: PresidioDetector) -> None:
    text = "from DE89370400440532013000 to GB82WEST12345698765432 today"
    assert found(detector, text, "IBAN_CODE") == [
        "DE89370400440532013000",
        "GB82WEST12345698765432",
    ]


@pytest.mark.parametrize(
    "text", ["DE89370400440532013001 please", "BE68539007547035 ok", "XX89370400440532013000"]
)
def test_ibans_with_bad_check_digits_or_country_are_ignored(
    detector: PresidioDetector, text: str
) -> None:
    assert found(detector, text, "IBAN_CODE") == []


def test_policy_patterns_count_with_their_context_words(detector: PresidioDetector) -> None:
    pii = policy(recognizers=employee_ids("employee", "badge"), EMPLOYEE_ID=rule("redact"))
    plan = detector.plan(pii, "input")
    with_context = "the employee EMP-123456 called"
    without_context = "the ticket EMP-123456 called"
    assert [f.entity_type for f in detector.find(with_context, plan)] == ["EMPLOYEE_ID"]
    assert detector.find(without_context, plan) == []  # 0.4 alone is under the 0.5 threshold


def test_policy_patterns_apply_exactly_as_written(detector: PresidioDetector) -> None:
    pii = policy(recognizers=employee_ids("employee"), EMPLOYEE_ID=rule("redact"))
    plan = detector.plan(pii, "input")
    assert detector.find("employee emp-123456", plan) == []  # no implicit IGNORECASE


def test_policy_recognizers_are_built_once_per_policy_content(detector: PresidioDetector) -> None:
    first = detector.plan(
        policy(recognizers=employee_ids("staff"), EMPLOYEE_ID=rule("redact")), "input"
    )
    again = detector.plan(
        policy(recognizers=employee_ids("staff"), EMPLOYEE_ID=rule("redact")), "input"
    )
    changed = detector.plan(
        policy(recognizers=employee_ids("hr"), EMPLOYEE_ID=rule("redact")), "input"
    )
    assert again is first
    assert changed is not first
    assert changed.custom_recognizers[0].context == ["hr"]
