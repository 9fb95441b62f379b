"""Refusals the redaction gate answers with. Messages name entity types, never values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gateway.errors import InvalidRequestError, ServiceUnavailableError


class PiiBlockedError(InvalidRequestError):
    """400: the messages hold personal data of a type the policy blocks."""

    default_code = "pii_blocked"

    def __init__(self, entity_types: Iterable[str], entity_counts: Mapping[str, int]) -> None:
        self.entity_types = tuple(sorted(set(entity_types)))
        """The blocked types found (``CREDIT_CARD``...)."""
        self.entity_counts = dict(entity_counts)
        """Every type found in the messages → how many (for the audit record)."""
        super().__init__(
            "the messages contain personal data that this department's policy does not "
            f"allow: {', '.join(self.entity_types)}; remove it and send the request again",
            param="messages",
        )

    def to_body(self) -> dict[str, dict[str, Any]]:
        body: dict[str, dict[str, Any]] = {"error": dict(super().to_body()["error"])}
        body["error"]["entity_types"] = list(self.entity_types)
        return body


class PiiAnalyzerUnavailableError(ServiceUnavailableError):
    """503: personal data could not be checked, so nothing was sent on (fail closed)."""

    default_code = "pii_analyzer_unavailable"

    def __init__(self) -> None:
        super().__init__(
            "personal-data screening is unavailable, so the request was not processed; "
            "try again later"
        )
