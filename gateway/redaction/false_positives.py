"""Findings that are version strings or parts of codes, not personal data.

Presidio reads ``version 10.192.168.1`` as an IP address, ``v1.2.3`` as an organization,
and the tail of ``ORD-2024-000123`` as a phone number. A finding is dropped when it:

- overlaps a version string: ``v1.2.3``, ``1.2.3-rc1``, or dotted numbers right after
  a word such as *version*, *release* or *build*;
- is an IP address inside a longer run of dotted numbers (``1.10.192.168.1``);
- starts inside a code that begins with letters and a separator (``ORD-``, ``INV#``,
  ``ticket_``), so the "number" is the code's tail.

Types whose match is confirmed by a checksum or a strict syntax (cards, IBANs, resident
IDs, e-mail addresses, URLs, wallets) and a policy's own types are never dropped.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import regex

from gateway.redaction.findings import Finding

NEVER_DROPPED = frozenset(
    {"CREDIT_CARD", "IBAN_CODE", "CN_RESIDENT_ID", "EMAIL_ADDRESS", "URL", "CRYPTO"}
)

_VERSION = regex.compile(
    r"(?<![\w.])[vV]\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.-]+)?(?![\w.])"  # v1.2.3, v2.0-beta
    r"|(?<![\w.])\d+\.\d+\.\d+[-+][0-9A-Za-z.-]+(?![\w.])"  # 1.2.3-rc1, 1.2.3+build.5
    r"|(?i:\b(?:version|release|ver|build|firmware|tag)\b\.?\s*[:=#]?\s*)"
    r"\K\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.-]+)?"  # "version 10.192.168.1"
)
_CODE_PREFIX = regex.compile(r"[A-Za-z]{2,}[A-Za-z0-9]*(?:[-_/#][A-Za-z0-9]+)*[-_/#]")


def drop_false_positives(
    text: str, findings: Sequence[Finding], *, keep_types: Collection[str] = ()
) -> list[Finding]:
    """``findings`` without the ones that are version strings or code tails."""
    versions = [match.span() for match in _VERSION.finditer(text)]
    return [
        finding
        for finding in findings
        if finding.entity_type in NEVER_DROPPED
        or finding.entity_type in keep_types
        or not _looks_like_code(text, finding, versions)
    ]


def _looks_like_code(text: str, finding: Finding, versions: list[tuple[int, int]]) -> bool:
    if any(finding.overlaps(start, end) for start, end in versions):
        return True
    if finding.entity_type == "IP_ADDRESS" and _in_longer_dotted_run(text, finding):
        return True
    return _CODE_PREFIX.fullmatch(_word_before(text, finding.start)) is not None


def _in_longer_dotted_run(text: str, finding: Finding) -> bool:
    before = text[max(0, finding.start - 2) : finding.start]
    after = text[finding.end : finding.end + 2]
    return (len(before) == 2 and before[1] == "." and before[0].isdigit()) or (
        len(after) == 2 and after[0] == "." and after[1].isdigit()
    )


def _word_before(text: str, position: int) -> str:
    """The non-blank characters just before ``position``, back to the previous blank."""
    start = position
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:position]
