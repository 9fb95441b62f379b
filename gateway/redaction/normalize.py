"""Text as the analyzer should see it: compatibility-normalized, invisible characters gone.

``j\u200bohn@example.com`` (a zero-width space inside) or a phone number written in
full-width digits (U+FF10 to U+FF19) must not slip past patterns written for plain
ASCII. NFKC folds the compatibility forms (full-width, ligatures, no-break spaces);
then every format control and default-ignorable code point (zero-width spaces and
joiners, bidi controls, soft hyphens, tag characters, variation selectors) and every
C0/C1 control but tab, line feed and carriage return is removed. The normalized text
is also what the engine receives.
"""

from __future__ import annotations

import unicodedata

import regex

_INVISIBLE = regex.compile(
    r"[\p{Cf}\p{Default_Ignorable_Code_Point}\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
)


def normalize_text(text: str) -> str:
    """NFKC, then without invisible characters."""
    folded = unicodedata.normalize("NFKC", text)
    return str(_INVISIBLE.sub("", folded))
