"""What the audit and the response cache read from one choice after output redaction.

``OutputFilter`` is one (the engine's answer, screened as it streamed); a choice replayed
from the response cache is another.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class ScreenedOutput(Protocol):
    @property
    def redacted_text(self) -> str:
        """The completion with output rules applied and pseudonym placeholders left in place."""
        ...

    @property
    def entity_counts(self) -> Mapping[str, int]:
        """Entity type → how many were redacted or pseudonymized (never the values)."""
        ...
