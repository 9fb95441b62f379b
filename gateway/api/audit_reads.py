"""The compliance API's database work, run in a worker thread: tenant-scoped reads and the
tenant's share of the (incremental, throttled) verification."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit.anchor import AnchorUnavailableError
from gateway.audit.incremental import IncrementalVerifier
from gateway.audit.query import AuditFilters, AuditPage, AuditRecord, get_event, search_events
from gateway.errors import ConfigurationError, NotFoundError, ServiceUnavailableError

T = TypeVar("T")
Sessions = sessionmaker[Session]

log = structlog.get_logger("enclave.audit")


async def find_events(
    sessions: Sessions, filters: AuditFilters, *, limit: int, cursor: int | None
) -> AuditPage:
    """Matching records, newest first (``filters`` already carry the caller's tenant)."""
    return await _in_thread(
        lambda: _read(sessions, lambda s: search_events(s, filters, limit=limit, cursor=cursor))
    )


async def find_tenant_event(sessions: Sessions, tenant: str, event_id: int) -> AuditRecord:
    """One record of ``tenant``; another tenant's is "not found", so its existence stays hidden."""
    record = await _in_thread(lambda: _read(sessions, lambda s: get_event(s, event_id)))
    if record.tenant != tenant:
        raise NotFoundError(f"audit record {event_id} not found", param="id")
    return record


async def verify_report(verifier: IncrementalVerifier, tenant: str) -> dict[str, Any]:
    """The caller's tenant's share of the last incremental verification (throttled)."""
    try:
        result = await anyio.to_thread.run_sync(lambda: verifier.verify(tenant))
    except ConfigurationError as exc:
        log.error("audit verification impossible", reason=str(exc))
        raise ServiceUnavailableError(
            "the audit trail cannot be verified: no usable public key on the server",
            code="audit_keys_unavailable",
        ) from None
    except (AnchorUnavailableError, SQLAlchemyError):
        raise ServiceUnavailableError(
            "the audit trail cannot be verified now; try again", code="audit_unavailable"
        ) from None
    return {
        "ok": result.ok,
        "tenant": tenant,
        "records": result.records,
        "unsigned": result.unsigned,
        "verified_at": None if result.verified_at is None else result.verified_at.isoformat(),
        "problem": result.problem,
        "row_id": result.row_id,
    }


def _read(sessions: Sessions, work: Callable[[Session], T]) -> T:
    with sessions() as session, session.begin():
        return work(session)


async def _in_thread(work: Callable[[], T]) -> T:
    try:
        return await anyio.to_thread.run_sync(work)
    except SQLAlchemyError:
        raise ServiceUnavailableError(
            "the database is unavailable; try again", code="database_unavailable"
        ) from None
