"""Recognizers the gateway adds to Presidio's own.

Importing this package imports Presidio: do it only after
``gateway.redaction.offline.prepare_offline_environment()``.
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer

from gateway.redaction.recognizers.cn_mobile import ChineseMobileRecognizer
from gateway.redaction.recognizers.cn_resident_id import ChineseResidentIdRecognizer
from gateway.redaction.recognizers.iban import GatewayIbanRecognizer
from gateway.redaction.recognizers.payment_cards import PaymentCardRecognizer
from gateway.redaction.recognizers.policy import policy_recognizers

REPLACED_PRESIDIO_RECOGNIZERS = ("IbanRecognizer",)
"""Presidio recognizers the gateway's own replace (by registry name)."""


def gateway_recognizers() -> list[EntityRecognizer]:
    """Fresh instances of every recognizer the gateway adds."""
    return [
        ChineseMobileRecognizer(),
        ChineseResidentIdRecognizer(),
        GatewayIbanRecognizer(),
        PaymentCardRecognizer(),
    ]


__all__ = [
    "REPLACED_PRESIDIO_RECOGNIZERS",
    "ChineseMobileRecognizer",
    "ChineseResidentIdRecognizer",
    "GatewayIbanRecognizer",
    "PaymentCardRecognizer",
    "gateway_recognizers",
    "policy_recognizers",
]
