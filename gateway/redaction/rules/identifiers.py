"""National identifiers: US social security numbers and Chinese resident identity numbers."""

from __future__ import annotations

import re

from gateway.redaction.rules.base import AFTER, BEFORE, CONTEXT_ONLY_SCORE, PatternRule
from gateway.redaction.rules.checksums import resident_id_valid

US_SSN = "US_SSN"
CN_RESIDENT_ID = "CN_RESIDENT_ID"

# 3-2-4 digits with one separator used throughout (or none); not inside a longer code
# (ORD-123-45-6789) or a decimal.
_SSN = re.compile(r"(?<![0-9A-Za-z.-])\d{3}([- .]?)\d{2}\1\d{4}(?![0-9A-Za-z]|[-.]\d)")
_SSN_SAMPLES = frozenset({"123456789", "987654320", "078051120"})
"""Numbers printed in examples and on a wallet insert, never issued to a person."""
SSN_CONTEXT = ("social security", "ssn", "ssid", "社保", "社会安全", "社会保障", "安全号")

# Region (6 digits), birth date YYYYMMDD, sequence (3 digits), check character (0-9 or X).
_RESIDENT_ID = re.compile(
    rf"{BEFORE}[1-9]\d{{5}}(?:18|19|20)\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
    rf"\d{{3}}[0-9Xx]{AFTER}"
)
RESIDENT_ID_CONTEXT = ("id", "identity", "resident", "citizen", "身份证", "证件")


def ssn_score(candidate: str) -> float | None:
    """0.5 for a grouped number the SSA could have issued, 0.3 for nine bare digits; one it
    never issued (9xx taxpayer numbers, samples) counts only next to an SSN word."""
    digits = "".join(c for c in candidate if c.isdigit())
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    never_issued = area in ("000", "666") or area.startswith("9") or group == "00"
    if never_issued or serial == "0000" or len(set(digits)) == 1 or digits in _SSN_SAMPLES:
        return CONTEXT_ONLY_SCORE
    return 0.3 if len(candidate) == 9 else 0.5


def resident_id_score(candidate: str) -> float | None:
    """Certain when the birth date is real and the ISO 7064 MOD 11-2 check character fits."""
    return 1.0 if resident_id_valid(candidate) else None


def identifier_rules() -> list[PatternRule]:
    return [
        PatternRule(US_SSN, _SSN, ssn_score, SSN_CONTEXT),
        PatternRule(CN_RESIDENT_ID, _RESIDENT_ID, resident_id_score, RESIDENT_ID_CONTEXT),
    ]
