"""Chinese resident identity numbers (``CN_RESIDENT_ID``), 18 characters with a check character."""

from __future__ import annotations

from presidio_analyzer import Pattern, PatternRecognizer

from gateway.redaction.recognizers.checksums import resident_id_valid

CN_RESIDENT_ID = "CN_RESIDENT_ID"

# Region (6 digits), birth date YYYYMMDD, sequence (3 digits), check character (0-9 or X).
_RESIDENT_ID = (
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    r"\d{3}[0-9Xx](?![0-9A-Za-z])"
)

CONTEXT = ("id", "identity", "resident", "citizen", "身份证", "证件")


class ChineseResidentIdRecognizer(PatternRecognizer):
    """Only numbers with a real birth date and a correct ISO 7064 MOD 11-2 check character."""

    def __init__(self) -> None:
        super().__init__(
            supported_entity=CN_RESIDENT_ID,
            name="GatewayChineseResidentIdRecognizer",
            patterns=[Pattern("CN resident ID", _RESIDENT_ID, 0.3)],
            context=list(CONTEXT),
            global_regex_flags=0,
        )

    def validate_result(self, pattern_text: str) -> bool:
        return resident_id_valid(pattern_text)
