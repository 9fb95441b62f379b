"""What the request path hands the audit writer, and what it gets back once it is durable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

from gateway.identity.clock import utc_now

EventKind = Literal[
    "opened", "started", "completed", "failed", "refused", "incomplete", "tombstone"
]
REQUEST_OUTCOMES: Final = ("completed", "failed", "refused", "incomplete")
"""Kinds that close a request; a ``started`` without one of them is unfinished."""
ContentLevel = Literal["none", "redacted", "full", "withheld"]
"""``withheld``: the policy asked for ``full`` content but no content key is configured."""
AuditDecision = Literal["allowed", "refused"]


@dataclass(frozen=True, slots=True)
class StoredContent:
    """Request or response text as the audit policy lets it be kept."""

    level: ContentLevel
    text: str | None
    """Redacted text, an ``enc:v1:...`` ciphertext for ``full``, or None."""


NO_CONTENT: Final = StoredContent(level="none", text=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One thing that happened to a request (or to the trail itself, for ``opened``/``tombstone``).

    Text fields are clipped to their column's length and made storable (no NUL characters)
    by the writer; the stored, clipped values are what the hash covers.
    """

    kind: EventKind
    request_id: str | None
    occurred_at: datetime = field(default_factory=utc_now)
    tenant: str | None = None
    subject: str | None = None
    department: str | None = None
    roles: tuple[str, ...] = ()
    client_address: str | None = None
    route: str | None = None
    model: str | None = None
    decision: AuditDecision | None = None
    reasons: tuple[str, ...] = ()
    """Why a request was refused or failed: short codes or sentences, never personal data."""
    status: int | None = None
    """HTTP status sent to the client (outcomes only)."""
    entity_counts: Mapping[str, int] = field(default_factory=dict)
    """Personal-data findings by entity type (``{"EMAIL_ADDRESS": 2}``); never the values."""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    gateway_us: int | None = None
    """Microseconds spent in the gateway's own gates (engine time excluded)."""
    engine_us: int | None = None
    """Microseconds spent in the engine."""
    content: StoredContent = NO_CONTENT
    detail: Mapping[str, object] | None = None
    """Kind-specific facts as JSON-able values (ints, strings, lists, mappings; no floats)."""


@dataclass(frozen=True, slots=True)
class AuditReceipt:
    """Proof that an event is durable: where it sits in which chain."""

    event_id: int
    chain_id: str
    seq: int
    hash: str
