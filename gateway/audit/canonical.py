"""The canonical form of an audit row and its SHA-256 hash: what the chain links together.

The form is JSON with sorted keys, no whitespace, ASCII only; times are UTC
``YYYY-MM-DDTHH:MM:SS.ffffffZ``; numbers are integers (no floats anywhere); JSON columns are
hashed as the exact text stored. Every column except ``id`` and ``hash`` is covered,
including ``chain_id``, ``seq`` and ``prev_hash``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Final

GENESIS_HASH: Final = "0" * 64
"""The ``prev_hash`` of a chain's first record."""
HASH_FORMAT: Final = "enclave-audit-v1"
"""Part of every hashed document, so a future format can never collide with this one."""

HASHED_COLUMNS: Final = (
    "chain_id",
    "seq",
    "kind",
    "request_id",
    "occurred_at",
    "tenant",
    "subject",
    "department",
    "roles",
    "client_address",
    "route",
    "model",
    "decision",
    "reasons",
    "status",
    "entity_counts",
    "prompt_tokens",
    "completion_tokens",
    "gateway_us",
    "engine_us",
    "content_level",
    "content",
    "detail",
    "prev_hash",
)

CanonicalValue = str | int | None


def record_hash(row: Mapping[str, object]) -> str:
    """SHA-256 (hex) of the canonical form of ``row``'s hashed columns."""
    document: dict[str, CanonicalValue] = {
        name: canonical_value(row[name]) for name in HASHED_COLUMNS
    }
    document["format"] = HASH_FORMAT
    return hashlib.sha256(canonical_json(document).encode("ascii")).hexdigest()


def canonical_json(value: object) -> str:
    """Deterministic JSON text: sorted keys, no spaces, ASCII escapes, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def canonical_value(value: object) -> CanonicalValue:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise TypeError("audit columns hold no booleans")
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        return canonical_time(value)
    raise TypeError(f"cannot hash a {type(value).__name__} audit value")


def canonical_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
