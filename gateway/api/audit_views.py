"""What the compliance API shows of an audit record: everything but sealed content."""

from __future__ import annotations

from datetime import datetime

import msgspec

from gateway.audit.query import AuditRecord

SHOWN_CONTENT_LEVEL = "redacted"
"""The only level whose content is shown; ``full`` content stays encrypted and is never sent."""


class AuditEventView(msgspec.Struct, kw_only=True):
    id: int
    chain_id: str
    seq: int
    kind: str
    request_id: str | None
    occurred_at: datetime
    tenant: str | None
    subject: str | None
    department: str | None
    roles: list[str]
    client_address: str | None
    route: str | None
    model: str | None
    decision: str | None
    reasons: list[str]
    status: int | None
    entity_counts: dict[str, int]
    prompt_tokens: int | None
    completion_tokens: int | None
    gateway_us: int | None
    engine_us: int | None
    content_level: str
    content: str | None
    """The redacted text for ``redacted`` records; None for every other level."""
    hash: str


class AuditEventPage(msgspec.Struct, kw_only=True):
    data: list[AuditEventView]
    next_cursor: int | None
    """Pass as ``cursor`` for the next (older) page; None on the last page."""


def shown_content(record: AuditRecord) -> str | None:
    return record.content if record.content_level == SHOWN_CONTENT_LEVEL else None


def event_view(record: AuditRecord) -> AuditEventView:
    return AuditEventView(
        id=record.id,
        chain_id=record.chain_id,
        seq=record.seq,
        kind=record.kind,
        request_id=record.request_id,
        occurred_at=record.occurred_at,
        tenant=record.tenant,
        subject=record.subject,
        department=record.department,
        roles=list(record.roles),
        client_address=record.client_address,
        route=record.route,
        model=record.model,
        decision=record.decision,
        reasons=list(record.reasons),
        status=record.status,
        entity_counts=dict(record.entity_counts),
        prompt_tokens=record.prompt_tokens,
        completion_tokens=record.completion_tokens,
        gateway_us=record.gateway_us,
        engine_us=record.engine_us,
        content_level=record.content_level,
        content=shown_content(record),
        hash=record.hash,
    )
