"""Card numbers Presidio's own recognizer misses, reported as ``CREDIT_CARD``.

Presidio's pattern knows 13-17 digit numbers starting 1, 3, 4, 5 or 6: it misses
Mastercard's 2-series (2221-2720, reported as a date instead) and 17-19 digit UnionPay
numbers (62...). Both are Luhn-checked here like Presidio's own.
"""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from gateway.redaction.recognizers.checksums import luhn_valid

CREDIT_CARD = "CREDIT_CARD"

_MASTERCARD_2_SERIES = (
    r"(?<!\d)2(?:2(?:2[1-9]|[3-9]\d)|[3-6]\d{2}|7(?:[01]\d|20))(?:[ -]?\d{4}){3}(?!\d)"
)
_UNIONPAY = r"(?<!\d)62\d{2}(?:[ -]?\d{4}){3}(?:[ -]?\d{1,3})?(?!\d)"

CONTEXT = ("credit", "card", "debit", "mastercard", "unionpay", "银联", "卡号", "payment")


class PaymentCardRecognizer(PatternRecognizer):
    """Mastercard 2-series and UnionPay numbers, with or without space or dash groups."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity=CREDIT_CARD,
            name="GatewayPaymentCardRecognizer",
            patterns=[
                Pattern("Mastercard 2-series", _MASTERCARD_2_SERIES, 0.3),
                Pattern("UnionPay", _UNIONPAY, 0.3),
            ],
            context=list(CONTEXT),
            global_regex_flags=0,
        )

    def validate_result(self, pattern_text: str) -> bool:
        return luhn_valid(pattern_text.replace(" ", "").replace("-", ""))
