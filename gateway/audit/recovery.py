"""Requests that never finished: "started" records whose writer died before their outcome.

A chain is dead when its writer is gone: its heartbeat is older than the stale limit, or
(on this host, at once) its process no longer exists. A pid equal to ours is never taken as
proof (after a container restart the new process often has the old one's pid). A live
writer marks its own unfinished requests when it stops.
A dead chain is *settled* exactly once: the claim on its registry row commits together with
the ``incomplete`` records, so two replicas sweeping at once never both mark it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Connection, RowMapping, exists, select, update

from gateway.audit.chain import CHAIN_TABLE, ChainIdentity
from gateway.audit.events import REQUEST_OUTCOMES, AuditEvent
from gateway.audit.rows import EVENT_TABLE

WRITER_DIED: Final = "writer_died"
WRITER_STOPPED: Final = "writer_stopped"


@dataclass(frozen=True, slots=True)
class StartedRecord:
    """Enough of a ``started`` record to write its ``incomplete`` outcome."""

    event: AuditEvent
    event_id: int
    chain_id: str
    seq: int


def dead_chains(
    connection: Connection, me: ChainIdentity, now: datetime, stale_after: timedelta
) -> list[str]:
    """Chains neither closed nor settled whose writer is gone."""
    rows = connection.execute(
        select(
            CHAIN_TABLE.c.chain_id,
            CHAIN_TABLE.c.host,
            CHAIN_TABLE.c.pid,
            CHAIN_TABLE.c.heartbeat_at,
        )
        .where(
            CHAIN_TABLE.c.closed_at.is_(None),
            CHAIN_TABLE.c.settled_at.is_(None),
            CHAIN_TABLE.c.chain_id != me.chain_id,
        )
        .order_by(CHAIN_TABLE.c.opened_at)
    )
    dead: list[str] = []
    for row in rows:
        stale = now - row.heartbeat_at > stale_after
        exited = row.host == me.host and row.pid != me.pid and not process_exists(row.pid)
        if stale or exited:
            dead.append(row.chain_id)
    return dead


def unfinished_requests(connection: Connection, chain_id: str) -> list[StartedRecord]:
    """``started`` records of ``chain_id`` with no outcome in any chain, in chain order."""
    started = EVENT_TABLE.alias("started")
    outcome = EVENT_TABLE.alias("outcome")
    has_outcome = exists().where(
        outcome.c.request_id == started.c.request_id, outcome.c.kind.in_(REQUEST_OUTCOMES)
    )
    rows = connection.execute(
        select(started)
        .where(started.c.chain_id == chain_id, started.c.kind == "started", ~has_outcome)
        .order_by(started.c.seq)
    )
    return [_started_record(row._mapping) for row in rows]


def claim_settlement(connection: Connection, chain_id: str, now: datetime) -> bool:
    """Mark the dead chain settled; False when another writer got there first."""
    result = connection.execute(
        update(CHAIN_TABLE)
        .where(CHAIN_TABLE.c.chain_id == chain_id, CHAIN_TABLE.c.settled_at.is_(None))
        .values(settled_at=now)
    )
    return result.rowcount == 1


def incomplete_event(started: StartedRecord, now: datetime, reason: str) -> AuditEvent:
    """The ``incomplete`` outcome of a request whose record stops at ``started``."""
    event = started.event
    return AuditEvent(
        kind="incomplete",
        request_id=event.request_id,
        occurred_at=now,
        tenant=event.tenant,
        subject=event.subject,
        department=event.department,
        roles=event.roles,
        client_address=event.client_address,
        route=event.route,
        model=event.model,
        decision=event.decision,
        reasons=(reason,),
        detail={
            "started_event_id": started.event_id,
            "started_chain_id": started.chain_id,
            "started_seq": started.seq,
        },
    )


def process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _started_record(row: RowMapping) -> StartedRecord:
    roles = row["roles"]
    decision = row["decision"]
    event = AuditEvent(
        kind="started",
        request_id=_optional_text(row["request_id"]),
        occurred_at=_time(row["occurred_at"]),
        tenant=_optional_text(row["tenant"]),
        subject=_optional_text(row["subject"]),
        department=_optional_text(row["department"]),
        roles=tuple(roles.split()) if isinstance(roles, str) else (),
        client_address=_optional_text(row["client_address"]),
        route=_optional_text(row["route"]),
        model=_optional_text(row["model"]),
        decision="refused" if decision == "refused" else "allowed",
    )
    return StartedRecord(
        event=event, event_id=_int(row["id"]), chain_id=str(row["chain_id"]), seq=_int(row["seq"])
    )


def _optional_text(value: object) -> str | None:
    return None if value is None else str(value)


def _int(value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(f"expected an integer column, got {value!r}")
    return value


def _time(value: object) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"expected a timestamp column, got {value!r}")
    return value
