"""Telephone numbers: international, North American, national trunk formats, Chinese mobiles.

``PHONE_NUMBER`` candidates are checked with ``phonenumbers`` (Google's libphonenumber
metadata, a Presidio dependency): a North American number written with separators or
brackets that is valid for its area code scores 0.6, enough on its own; written as ten
bare digits it scores 0.4 and needs a context word (``phone``, ``call``, ``电话``...),
like a national number with a trunk zero (``020 7946 0958``), since ten digits are often
something else. Numbers that are possible but not assigned (``(555) 253-0000``) score 0.3.

``CN_MOBILE``: mainland mobiles, 11 digits starting 13-19 on the operators' ranges, in
the 3-4-4 layout with optional separators, optionally after ``+86``; 0.5 bare, 0.7 with
the country code, more with context words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from gateway.redaction.findings import Finding
from gateway.redaction.rules.base import CONTEXT_BOOST, PatternRule, has_context

PHONE_NUMBER = "PHONE_NUMBER"
CN_MOBILE = "CN_MOBILE"

_SEP = r"[ .\-]?"
_PHONE = re.compile(
    r"(?<![0-9A-Za-z+./\-])(?:"
    rf"(?P<intl>(?:\+|00)[1-9]\d{{0,2}}{_SEP}(?:\(\d{{1,4}}\){_SEP})?\d{{1,4}}(?:{_SEP}\d{{2,4}}){{1,4}})"
    rf"|(?P<nanp>(?:1{_SEP})?(?:\(\d{{3}}\){_SEP}|\d{{3}}{_SEP})\d{{3}}{_SEP}\d{{4}})"
    rf"|(?P<trunk>\(?0\d{{1,4}}\)?{_SEP}\d{{3,4}}{_SEP}\d{{3,4}})"
    r")(?![0-9A-Za-z]|[./\-]?\d)"
)
_TRUNK_REGIONS = ("GB", "DE", "FR", "IT", "ES", "NL", "IL", "IN", "AU", "JP", "BR", "CN")
"""Countries whose national numbers (with a leading 0) are tried, in this order."""
PHONE_CONTEXT = (
    "phone", "tel", "call", "mobile", "cell", "contact", "reach", "fax", "whatsapp",
    "number", "line", "电话", "手机", "联系", "致电", "拨打", "号码", "热线",
)  # fmt: skip

_CN_MOBILE = re.compile(
    r"(?<![0-9A-Za-z+])(?P<code>(?:\+|00)86[ \-]?)?"
    r"1(?:3\d|4[5-9]|5[0-35-9]|6[2567]|7[0-8]|8\d|9[0-35-9])(?:[ \-]?\d{4}){2}"
    r"(?![0-9A-Za-z]|[.\-]\d)"
)
_BARE_CN_MOBILE = re.compile(r"1[3-9]\d{9}")
CN_MOBILE_CONTEXT = (
    "mobile", "phone", "cell", "tel", "call", "contact", "wechat", "whatsapp",
    "手机", "电话", "联系", "微信", "号码",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PhoneRule:
    """``PHONE_NUMBER`` by pattern, checked against libphonenumber's numbering plans."""

    entity_type: str = PHONE_NUMBER

    def find(self, text: str, lowered: str) -> list[Finding]:
        findings: list[Finding] = []
        for match in _PHONE.finditer(text):
            kind = match.lastgroup or ""
            score = phone_score(match.group(kind), kind)
            if score is None:
                continue
            start, end = match.span()
            if has_context(lowered, start, end, PHONE_CONTEXT):
                score = min(1.0, score + CONTEXT_BOOST)
            findings.append(Finding(PHONE_NUMBER, start, end, round(score, 2)))
        return findings


def phone_score(candidate: str, kind: str) -> float | None:
    """How sure a candidate of one layout (``intl``, ``nanp``, ``trunk``) is a phone number."""
    if kind == "intl":
        number = _parse(candidate, None)
        return 0.7 if number is not None and phonenumbers.is_valid_number(number) else None
    if kind == "nanp":
        score = _north_american_score(candidate)
        if (score is None or score < 0.4) and candidate.lstrip("(").startswith("0"):
            return _national_score(candidate) or score  # 052 5552606: an Israeli number
        return score
    return _national_score(candidate)


def _national_score(candidate: str) -> float | None:
    """0.4 when a number with a trunk zero is valid in one of the tried countries."""
    for region in _TRUNK_REGIONS:
        number = _parse(candidate, region)
        if number is not None and phonenumbers.is_valid_number(number):
            return 0.4
    return None


def _north_american_score(candidate: str) -> float | None:
    digits = "".join(c for c in candidate if c.isdigit())
    if _BARE_CN_MOBILE.fullmatch(candidate):
        return None  # eleven bare digits starting 13-19: a Chinese mobile (CN_MOBILE)
    number = _parse(candidate, "US")
    if number is None or not phonenumbers.is_possible_number(number):
        return None
    if not phonenumbers.is_valid_number(number):
        return 0.3
    return 0.4 if digits == candidate else 0.6


def _parse(candidate: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None


def _cn_mobile_score(candidate: str) -> float:
    return 0.7 if candidate.startswith(("+", "00")) else 0.5


def phone_rules() -> list[PatternRule | PhoneRule]:
    return [
        PhoneRule(),
        PatternRule(CN_MOBILE, _CN_MOBILE, _cn_mobile_score, CN_MOBILE_CONTEXT),
    ]
