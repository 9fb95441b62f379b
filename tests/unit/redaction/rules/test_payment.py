"""Card numbers of every major brand (Luhn-checked) and IBANs (length and mod-97)."""

from __future__ import annotations

import pytest

from tests.unit.redaction.rules.support import found, full_width, zero_width

CARDS = [
    "4012888888881881",  # Visa
    "4012-8888-8888-1881",
    "4012 8888 8888 1881",
    "371449635398431",  # American Express
    "3714 496353 98431",  # Amex grouping
    "5555555555554444",  # Mastercard
    "2221000000000009",  # Mastercard 2-series
    "6212345678901232",  # UnionPay, 16 digits
    "6225880000000000002",  # UnionPay, 19 digits
    "6011000400000000",  # Discover
    "3528000700000000",  # JCB
    "30569309025904",  # Diners Club
    "122000000000003",  # UATP
]


@pytest.mark.parametrize("card", CARDS)
def test_card_numbers_are_found(card: str) -> None:
    assert found(f"pay with {card} today", "CREDIT_CARD") == [card]


@pytest.mark.parametrize(
    ("text", "card"),
    [
        ("请用银联卡6212345678901232支付这笔订单", "6212345678901232"),
        (full_width("卡号4111 1111 1111 1111"), "4111 1111 1111 1111"),
        (zero_width("4111111111111111"), "4111111111111111"),
        ("Card ORD-4111111111111111 is mine", "4111111111111111"),
    ],
)
def test_cards_next_to_chinese_or_disguised_are_found(text: str, card: str) -> None:
    assert found(text, "CREDIT_CARD") == [card]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("my credit card number is 4012-8888-8888-1882", "4012-8888-8888-1882"),
        ("Use card 4532123412341234 for the deposit.", "4532123412341234"),
        ("银行卡号 6222 0202 0000 0000 001", "6222 0202 0000 0000 001"),
    ],
)
def test_a_mistyped_number_called_a_card_is_still_a_card(text: str, number: str) -> None:
    """Luhn fails (a typo, or a number made up for the example), but the writer says it is
    a card: a privacy gateway redacts it rather than trust the checksum."""
    assert found(text, "CREDIT_CARD") == [number]


def test_three_cards_in_a_row_are_three() -> None:
    text = "4012888888881881 4012-8888-8888-1881 4012 8888 8888 1881"
    assert found(text, "CREDIT_CARD") == [
        "4012888888881881",
        "4012-8888-8888-1881",
        "4012 8888 8888 1881",
    ]


@pytest.mark.parametrize(
    "text",
    [
        "serial 4111111111111112 under the battery",  # Luhn fails, no card word near
        "order 4532123412341234 shipped",
        "2721000000000004",  # outside the Mastercard 2-series
        "9111111111111111",  # no brand starts with 9
        "500101199001010229",  # a valid resident ID (and Luhn-valid), not a Maestro card
        "tracking 1Z1234567890123456",
        "v4.1.2.8888.8888.1881",
    ],
)
def test_card_look_alikes_are_not(text: str) -> None:
    assert found(text, "CREDIT_CARD") == []


@pytest.mark.parametrize(
    ("text", "iban"),
    [
        ("BE68539007547034 please", "BE68539007547034"),
        ("IBAN BE68 5390 0754 7034 thanks a lot", "BE68 5390 0754 7034"),
        ("send to de89 3704 0044 0532 0130 00 today", "de89 3704 0044 0532 0130 00"),
        ("AL47 2121 1009 0000 0002 3569 8741", "AL47 2121 1009 0000 0002 3569 8741"),
        ("退款请打到这个账户:GB29NWBK60161331926819,户名王芳", "GB29NWBK60161331926819"),
        (full_width("IBAN DE89370400440532013000"), "DE89370400440532013000"),
    ],
)
def test_ibans_are_found(text: str, iban: str) -> None:
    assert found(text, "IBAN_CODE") == [iban]


@pytest.mark.parametrize(
    "text",
    [
        "DE89370400440532013001 please",  # check digits wrong
        "AL47 2121 1009 0000 0002 3569 8740",
        "XX89370400440532013000",  # no such country
        "DE8937040044053201300",  # one character short for Germany
    ],
)
def test_iban_look_alikes_are_not(text: str) -> None:
    assert found(text, "IBAN_CODE") == []
