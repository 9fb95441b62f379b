"""Payment card numbers (every major brand, Luhn-checked) and IBANs (length and mod-97).

Cards: 13-19 digits written whole, in fours (``4012 8888 8888 1881``) or as Amex/Diners
4-6-5/4-6-4, with spaces or dashes between the groups. The first digits must belong to a brand
that issues numbers of that length (Visa 13/16/19, Amex 15, Mastercard 51-55 and
2221-2720, UnionPay 62, Discover, JCB, Diners, Maestro, UATP), and the Luhn check must
pass, or a card word must be near (``card 4532 1234 1234 1234`` is one mistyped); an
18-digit number that is a valid Chinese resident ID is the ID, not a card.

IBANs: a candidate is cut only where the text has a boundary (a space, a dash,
punctuation or the end), longest first, and the first cut with the country's length and
a correct mod-97 check is the IBAN, so ``BE68539007547034 please`` is found and
``DE89 3704 0044 0532 0130 00`` keeps all its groups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.redaction.findings import Finding
from gateway.redaction.rules.base import CONTEXT_ONLY_SCORE, PatternRule
from gateway.redaction.rules.checksums import iban_valid, luhn_valid, resident_id_valid

CREDIT_CARD = "CREDIT_CARD"
IBAN_CODE = "IBAN_CODE"

_CARD = re.compile(
    r"(?<![0-9A-Za-z.])"
    r"(?:[1-6]\d{3}[ -]?\d{4}[ -]?\d{4}[ -]?\d{1,4}(?:[ -]?\d{1,3})?"
    r"|3\d{3}[ -]?\d{6}[ -]?\d{4,5})"
    r"(?![0-9A-Za-z]|[-.]\d)"
)
CARD_CONTEXT = ("card", "credit", "debit", "visa", "mastercard", "amex", "卡", "银联", "支付")

# Brand prefixes → the lengths they issue (ISO/IEC 7812 ranges as the brands publish them).
_CARD_BRANDS: tuple[tuple[tuple[str, ...], frozenset[int]], ...] = (
    (("4",), frozenset({13, 16, 19})),  # Visa
    (("34", "37"), frozenset({15})),  # American Express
    (("51", "52", "53", "54", "55"), frozenset({16})),  # Mastercard
    (tuple(str(n) for n in range(2221, 2721)), frozenset({16})),  # Mastercard 2-series
    (("2200", "2201", "2202", "2203", "2204"), frozenset({16, 17, 18, 19})),  # Mir
    (("62",), frozenset({16, 17, 18, 19})),  # UnionPay
    (("6011", "644", "645", "646", "647", "648", "649", "65"), frozenset({16, 17, 18, 19})),
    (("35",), frozenset({16, 17, 18, 19})),  # JCB
    (("30", "36", "38", "39"), frozenset({14, 15, 16, 17, 18, 19})),  # Diners Club
    (("50", "56", "57", "58", "63", "67"), frozenset(range(12, 20))),  # Maestro
    (("1",), frozenset({15})),  # UATP (AirPlus)
)

_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,32}")
_IBAN_SEPARATORS = str.maketrans("", "", " -")
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24, "SC": 31,
    "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
"""IBAN length per country (the SWIFT IBAN registry)."""


def card_score(candidate: str) -> float | None:
    """Certain for a brand's length and a passing Luhn check; a failing check (a typo, a
    made-up number) counts only next to a card word."""
    digits = candidate.replace(" ", "").replace("-", "")
    if not _brand_issues(digits):
        return None
    if len(digits) == 18 and resident_id_valid(digits):
        return None
    return 1.0 if luhn_valid(digits) else CONTEXT_ONLY_SCORE


def _brand_issues(digits: str) -> bool:
    return any(
        len(digits) in lengths and digits.startswith(prefixes) for prefixes, lengths in _CARD_BRANDS
    )


@dataclass(frozen=True, slots=True)
class IbanRule:
    """IBANs written compact or in groups, in any letter case, whatever follows them."""

    entity_type: str = IBAN_CODE

    def find(self, text: str, lowered: str) -> list[Finding]:
        findings: list[Finding] = []
        position = 0
        while (candidate := _IBAN_CANDIDATE.search(text, position)) is not None:
            end = _longest_valid_end(text, candidate.start(), candidate.end())
            if end is None:
                position = candidate.start() + 1
                continue
            findings.append(Finding(IBAN_CODE, candidate.start(), end, 1.0))
            position = end
        return findings


def _longest_valid_end(text: str, start: int, stop: int) -> int | None:
    """The end of the longest IBAN starting at ``start`` and ending at a boundary."""
    for end in range(stop, start + 14, -1):
        if _inside_word(text, end) or not text[end - 1].isalnum():
            continue
        if is_iban(text[start:end]):
            return end
    return None


def _inside_word(text: str, position: int) -> bool:
    """Whether a cut at ``position`` splits a run of ASCII letters and digits in two."""
    return position < len(text) and text[position].isascii() and text[position].isalnum()


def is_iban(written: str) -> bool:
    """Whether ``written`` (spaces or dashes allowed) is an IBAN of a registered country."""
    compact = written.translate(_IBAN_SEPARATORS).upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact[2:4].isdigit():
        return False
    return iban_valid(compact)


def payment_rules() -> list[PatternRule | IbanRule]:
    return [PatternRule(CREDIT_CARD, _CARD, card_score, CARD_CONTEXT), IbanRule()]
