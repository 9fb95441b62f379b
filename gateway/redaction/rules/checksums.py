"""Check digits that separate real identifiers from digit strings that merely look like them."""

from __future__ import annotations

import datetime

_RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK_CHARACTERS = "10X98765432"


def luhn_valid(digits: str) -> bool:
    """Whether a card number (digits only) passes the Luhn check."""
    if not digits.isdigit():
        return False
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = int(character)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iban_valid(compact: str) -> bool:
    """Whether an IBAN without spaces passes ISO 13616's mod-97 check."""
    if len(compact) < 15 or not compact.isalnum() or not compact.isascii():
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(character, 36)) for character in rearranged.upper())
    return int(number) % 97 == 1


def resident_id_valid(identifier: str) -> bool:
    """Whether an 18-character Chinese resident ID has a real birth date and its check character.

    GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits; the 18th is ``0-9`` or ``X``.
    """
    if len(identifier) != 18 or not identifier[:17].isdigit():
        return False
    if not _is_real_date(identifier[6:14]):
        return False
    total = sum(
        int(digit) * weight
        for digit, weight in zip(identifier[:17], _RESIDENT_ID_WEIGHTS, strict=True)
    )
    return _RESIDENT_ID_CHECK_CHARACTERS[total % 11] == identifier[17].upper()


def _is_real_date(yyyymmdd: str) -> bool:
    try:
        datetime.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    except ValueError:
        return False
    return True
