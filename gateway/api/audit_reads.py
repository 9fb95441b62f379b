"""The compliance API's database work, run in a worker thread: tenant-scoped reads and verify."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit.config import AuditConfig
from gateway.audit.keys import trusted_public_keys
from gateway.audit.query import AuditFilters, AuditPage, AuditRecord, get_event, search_events
from gateway.audit.verify import report_json, verify_trail
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


async def verify_report(sessions: Sessions, config: AuditConfig) -> dict[str, Any]:
    """``enclave audit verify --json`` over the whole trail, with the trusted public keys."""

    def verify() -> dict[str, Any]:
        keys = trusted_public_keys(config.signing_key_file)
        return report_json(verify_trail(_database(sessions), keys))

    try:
        return await _in_thread(verify)
    except ConfigurationError as exc:
        log.error("audit verification impossible", reason=str(exc))
        raise ServiceUnavailableError(
            "the audit trail cannot be verified: no usable public key on the server",
            code="audit_keys_unavailable",
        ) from None


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


def _database(sessions: Sessions) -> Engine:
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        raise ConfigurationError("the session factory is not bound to a database engine")
    return bind
