"""From an ``AuditEvent`` to the row that is stored and hashed.

Anything a client controls (a model name, a route, redacted prompt text) is made storable
on both databases before it is hashed: NUL characters and lone surrogates are replaced and
text is clipped to its column's length, so one odd request can never fail a whole batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, cast

from sqlalchemy import Table

from gateway.audit.canonical import GENESIS_HASH, canonical_json, record_hash
from gateway.audit.events import AuditEvent
from gateway.db.models_audit import AuditEventRow

EVENT_TABLE: Final = cast("Table", AuditEventRow.__table__)
TEXT_LIMITS: Final[dict[str, int]] = {
    column.name: length
    for column in EVENT_TABLE.columns
    if isinstance(length := getattr(column.type, "length", None), int)
}
"""Column name → most characters it holds (PostgreSQL enforces these)."""
REPLACEMENT: Final = "\ufffd"

Row = dict[str, object]


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The newest record of a chain: the next one gets ``seq + 1`` and links to ``hash``."""

    seq: int
    hash: str


GENESIS: Final = ChainHead(seq=0, hash=GENESIS_HASH)


@dataclass(frozen=True, slots=True)
class PreparedEvent:
    """An event with its stored columns already computed, and so already checked.

    The writer prepares each event in the caller's context, so a malformed event fails its
    own request (as a programming error) instead of the batch it would have joined.
    """

    event: AuditEvent
    columns: Row


def prepare(event: AuditEvent) -> PreparedEvent:
    return PreparedEvent(event=event, columns=event_columns(event))


def event_of(item: AuditEvent | PreparedEvent) -> AuditEvent:
    return item.event if isinstance(item, PreparedEvent) else item


def chain_rows(
    items: Sequence[AuditEvent | PreparedEvent], chain_id: str, head: ChainHead
) -> tuple[list[Row], ChainHead]:
    """The rows for ``items`` appended after ``head``, and the chain's new head."""
    rows: list[Row] = []
    for item in items:
        row = dict(item.columns) if isinstance(item, PreparedEvent) else event_columns(item)
        row.update(chain_id=chain_id, seq=head.seq + 1, prev_hash=head.hash)
        row["hash"] = record_hash(row)
        rows.append(row)
        head = ChainHead(seq=head.seq + 1, hash=str(row["hash"]))
    return rows, head


def event_columns(event: AuditEvent) -> Row:
    """Every stored column of ``event`` except the chain position and hashes."""
    return {
        "kind": event.kind,
        "request_id": _text("request_id", event.request_id),
        "occurred_at": _aware(event.occurred_at),
        "tenant": _text("tenant", event.tenant),
        "subject": _text("subject", event.subject),
        "department": _text("department", event.department),
        "roles": _text("roles", " ".join(sorted(event.roles)) or None),
        "client_address": _text("client_address", event.client_address),
        "route": _text("route", event.route),
        "model": _text("model", event.model),
        "decision": event.decision,
        "reasons": canonical_json(list(event.reasons)) if event.reasons else None,
        "status": _count(event.status),
        "entity_counts": _entity_counts(event.entity_counts),
        "prompt_tokens": _count(event.prompt_tokens),
        "completion_tokens": _count(event.completion_tokens),
        "gateway_us": _count(event.gateway_us),
        "engine_us": _count(event.engine_us),
        "content_level": event.content.level,
        "content": storable(event.content.text),
        "detail": None if event.detail is None else canonical_json(dict(event.detail)),
    }


def storable(text: str | None) -> str | None:
    """``text`` without NUL characters or lone surrogates (neither database stores them)."""
    if text is None:
        return None
    if "\x00" in text:
        text = text.replace("\x00", REPLACEMENT)
    if not text.isascii():
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _text(column: str, value: str | None) -> str | None:
    cleaned = storable(value)
    return None if cleaned is None else cleaned[: TEXT_LIMITS[column]]


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("audit event times must be timezone-aware")
    return moment


def _count(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected an integer, got {value!r}")
    return value


def _entity_counts(counts: Mapping[str, int]) -> str | None:
    if not counts:
        return None
    cleaned = {str(storable(name)): _count(number) for name, number in counts.items()}
    return canonical_json(cleaned)
