"""Chinese mobile numbers (``CN_MOBILE``): 11 digits starting 13-19, optionally after +86."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

CN_MOBILE = "CN_MOBILE"

# Digit look-arounds, not \b: Chinese characters are word characters, so "手机13812345678"
# has no word boundary before the number.
_NUMBER = r"1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)"
_WITH_COUNTRY_CODE = r"(?<![\d+])(?:\+|00)86[ -]?" + _NUMBER
_BARE = r"(?<![\d+])" + _NUMBER

CONTEXT = ("mobile", "phone", "cell", "tel", "call", "contact", "wechat", "手机", "电话", "联系")


class ChineseMobileRecognizer(PatternRecognizer):
    """Mainland mobile numbers in the 3-4-4 layout, with or without separators.

    A bare 11-digit number scores 0.5 (enough for the default threshold); with the +86
    country code it scores 0.7. Context words nearby raise both.
    """

    def __init__(self) -> None:
        super().__init__(
            supported_entity=CN_MOBILE,
            name="GatewayChineseMobileRecognizer",
            patterns=[
                Pattern("CN mobile with country code", _WITH_COUNTRY_CODE, 0.7),
                Pattern("CN mobile", _BARE, 0.5),
            ],
            context=list(CONTEXT),
            global_regex_flags=0,
        )
