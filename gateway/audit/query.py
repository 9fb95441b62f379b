"""Reading the audit trail: search, one record, a request's timeline, streaming for export.

Read-only services for the CLI and the compliance API; they return plain ``AuditRecord``
values, never ORM rows. Content stays as stored (``full`` content stays sealed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import ColumnElement, RowMapping, Select, func, select
from sqlalchemy.orm import Session

from gateway.audit.rows import EVENT_TABLE
from gateway.errors import InvalidRequestError, NotFoundError

MAX_PAGE: Final = 500
EXPORT_BATCH: Final = 1000


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """Conditions a record must meet (all of them); None means "any"."""

    tenant: str | None = None
    department: str | None = None
    subject: str | None = None
    since: datetime | None = None
    """Inclusive lower bound on ``occurred_at``."""
    until: datetime | None = None
    """Exclusive upper bound on ``occurred_at``."""
    decision: str | None = None
    entity_type: str | None = None
    """Records where personal data of this type was found (``EMAIL_ADDRESS``)."""
    status: int | None = None
    kinds: tuple[str, ...] = ()
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    chain_id: str
    seq: int
    kind: str
    request_id: str | None
    occurred_at: datetime
    tenant: str | None
    subject: str | None
    department: str | None
    roles: tuple[str, ...]
    client_address: str | None
    route: str | None
    model: str | None
    decision: str | None
    reasons: tuple[str, ...]
    status: int | None
    entity_counts: dict[str, int]
    prompt_tokens: int | None
    completion_tokens: int | None
    gateway_us: int | None
    engine_us: int | None
    content_level: str
    content: str | None
    detail: dict[str, Any] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""


@dataclass(frozen=True, slots=True)
class AuditPage:
    records: tuple[AuditRecord, ...]
    next_cursor: int | None
    """Pass as ``cursor`` for the next (older) page; None on the last page."""


def search_events(
    session: Session, filters: AuditFilters, *, limit: int = 50, cursor: int | None = None
) -> AuditPage:
    """Matching records, newest first, ``limit`` at a time (keyset pagination on id)."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequestError(f"limit must be between 1 and {MAX_PAGE}", param="limit")
    statement = _filtered(select(EVENT_TABLE), filters).order_by(EVENT_TABLE.c.id.desc())
    if cursor is not None:
        statement = statement.where(EVENT_TABLE.c.id < cursor)
    rows = session.execute(statement.limit(limit + 1)).mappings().all()
    records = tuple(record_from_row(row) for row in rows[:limit])
    next_cursor = records[-1].id if len(rows) > limit else None
    return AuditPage(records=records, next_cursor=next_cursor)


def get_event(session: Session, event_id: int) -> AuditRecord:
    row = (
        session.execute(select(EVENT_TABLE).where(EVENT_TABLE.c.id == event_id)).mappings().first()
    )
    if row is None:
        raise NotFoundError(f"audit record {event_id} not found", param="id")
    return record_from_row(row)


def request_events(session: Session, request_id: str) -> tuple[AuditRecord, ...]:
    """Every record of one request, in the order they were written."""
    statement = select(EVENT_TABLE).where(EVENT_TABLE.c.request_id == request_id)
    rows = session.execute(statement.order_by(EVENT_TABLE.c.occurred_at, EVENT_TABLE.c.id))
    return tuple(record_from_row(row) for row in rows.mappings())


def count_events(session: Session, filters: AuditFilters) -> int:
    statement = _filtered(select(func.count()).select_from(EVENT_TABLE), filters)
    return int(session.execute(statement).scalar_one())


def iter_events(session: Session, filters: AuditFilters) -> Iterator[AuditRecord]:
    """Matching records, oldest first, fetched ``EXPORT_BATCH`` at a time."""
    after = 0
    while True:
        statement = (
            _filtered(select(EVENT_TABLE), filters)
            .where(EVENT_TABLE.c.id > after)
            .order_by(EVENT_TABLE.c.id)
            .limit(EXPORT_BATCH)
        )
        rows = session.execute(statement).mappings().all()
        if not rows:
            return
        for row in rows:
            yield record_from_row(row)
        after = rows[-1]["id"]


def record_from_row(row: RowMapping) -> AuditRecord:
    return AuditRecord(
        id=row["id"],
        chain_id=row["chain_id"],
        seq=row["seq"],
        kind=row["kind"],
        request_id=row["request_id"],
        occurred_at=row["occurred_at"],
        tenant=row["tenant"],
        subject=row["subject"],
        department=row["department"],
        roles=tuple((row["roles"] or "").split()),
        client_address=row["client_address"],
        route=row["route"],
        model=row["model"],
        decision=row["decision"],
        reasons=tuple(_json(row["reasons"], [])),
        status=row["status"],
        entity_counts=dict(_json(row["entity_counts"], {})),
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        gateway_us=row["gateway_us"],
        engine_us=row["engine_us"],
        content_level=row["content_level"],
        content=row["content"],
        detail=dict(_json(row["detail"], {})),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def _filtered(statement: Select[Any], filters: AuditFilters) -> Select[Any]:
    return statement.where(*_conditions(filters))


def _conditions(filters: AuditFilters) -> list[ColumnElement[bool]]:
    table = EVENT_TABLE.c
    equal = {
        "tenant": filters.tenant,
        "department": filters.department,
        "subject": filters.subject,
        "decision": filters.decision,
        "status": filters.status,
        "request_id": filters.request_id,
    }
    conditions = [table[name] == value for name, value in equal.items() if value is not None]
    if filters.since is not None:
        conditions.append(table.occurred_at >= filters.since)
    if filters.until is not None:
        conditions.append(table.occurred_at < filters.until)
    if filters.kinds:
        conditions.append(table.kind.in_(filters.kinds))
    if filters.entity_type is not None:
        conditions.append(
            table.entity_counts.like(_entity_pattern(filters.entity_type), escape="\\")
        )
    return conditions


def _entity_pattern(entity_type: str) -> str:
    """Matches the key in canonical JSON (``{"EMAIL_ADDRESS":2}``), ``_`` taken literally."""
    escaped = entity_type.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f'%"{escaped}":%'


def _json(text: str | None, empty: Any) -> Any:
    if not text:
        return empty
    try:
        value = json.loads(text)
    except ValueError:
        return empty
    return value if isinstance(value, type(empty)) else empty
