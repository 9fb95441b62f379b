"""``enclave audit purge``: remove old records, leaving signed tombstones so chains still verify.

Only a *prefix* of a chain can go (its oldest records), and only as far as every record in
it is older than ``--before`` **and** past its department's retention; the first record
that must stay ends the prefix. Tombstones are never removed. Each slice of at most
``SLICE_RECORDS`` records is deleted in its own transaction together with a ``tombstone``
record (chain, seq range, hash of the last removed record) appended to the purge's own
chain and signed, so a live gateway sharing a SQLite file never waits long for the lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Connection, Engine, delete, select

from gateway.audit.appender import ChainAppender
from gateway.audit.canonical import canonical_time
from gateway.audit.chain import CHECKPOINT_TABLE
from gateway.audit.config import AuditConfig
from gateway.audit.events import AuditEvent
from gateway.audit.rows import EVENT_TABLE
from gateway.audit.signing import ChainSigner
from gateway.errors import ConflictError

SLICE_RECORDS: Final = 5000
RetentionFor = Callable[[str | None], timedelta]
"""Department (None when unknown) → how long its records must be kept."""


@dataclass(frozen=True, slots=True)
class ChainPurge:
    """The oldest records of one chain that may go."""

    chain_id: str
    from_seq: int
    through_seq: int
    last_hash: str
    """Hash of the record at ``through_seq``: the chain's next record links to it."""

    @property
    def records(self) -> int:
        return self.through_seq - self.from_seq + 1


@dataclass(frozen=True, slots=True)
class PurgePlan:
    before: datetime
    chains: tuple[ChainPurge, ...]
    kept_by_retention: int
    """Chains whose removable prefix was cut short by a department's retention."""

    @property
    def records(self) -> int:
        return sum(chain.records for chain in self.chains)


def plan_purge(
    connection: Connection, before: datetime, retention: RetentionFor, now: datetime
) -> PurgePlan:
    """What ``purge --before`` would remove (nothing is changed)."""
    chains = connection.execute(
        select(EVENT_TABLE.c.chain_id)
        .where(EVENT_TABLE.c.occurred_at < before, EVENT_TABLE.c.kind != "tombstone")
        .distinct()
        .order_by(EVENT_TABLE.c.chain_id)
    ).scalars()
    purges: list[ChainPurge] = []
    kept = 0
    for chain_id in list(chains):
        purge, held = _removable_prefix(connection, chain_id, before, retention, now)
        kept += held
        if purge is not None:
            purges.append(purge)
    return PurgePlan(before=before, chains=tuple(purges), kept_by_retention=kept)


def apply_purge(
    engine: Engine,
    signer: ChainSigner,
    plan: PurgePlan,
    *,
    config: AuditConfig,
    clock: Callable[[], datetime],
) -> int:
    """Remove what ``plan`` names, slice by slice, each with a signed tombstone; how many went."""
    appender = ChainAppender(engine, signer, config, clock, purpose="purge")
    appender.open()
    removed = 0
    try:
        for chain in plan.chains:
            start = chain.from_seq
            while start <= chain.through_seq:
                through = min(start + SLICE_RECORDS - 1, chain.through_seq)
                appender.write(_slice_remover(chain.chain_id, start, through, plan.before, clock))
                removed += through - start + 1
                start = through + 1
    finally:
        appender.close()  # a signed close statement, also when a slice failed
    return removed


def _slice_remover(
    chain_id: str, from_seq: int, through_seq: int, before: datetime, clock: Callable[[], datetime]
) -> Callable[[Connection], list[AuditEvent]]:
    def remove(connection: Connection) -> list[AuditEvent]:
        last_hash = connection.execute(
            select(EVENT_TABLE.c.hash).where(
                EVENT_TABLE.c.chain_id == chain_id, EVENT_TABLE.c.seq == through_seq
            )
        ).scalar_one_or_none()
        if last_hash is None:
            raise ConflictError(f"chain {chain_id} changed while purging; run the purge again")
        in_slice = (EVENT_TABLE.c.chain_id == chain_id) & (EVENT_TABLE.c.seq <= through_seq)
        connection.execute(delete(EVENT_TABLE).where(in_slice))
        connection.execute(
            delete(CHECKPOINT_TABLE).where(
                CHECKPOINT_TABLE.c.chain_id == chain_id, CHECKPOINT_TABLE.c.seq <= through_seq
            )
        )
        detail: dict[str, object] = {
            "chain_id": chain_id,
            "from_seq": from_seq,
            "through_seq": through_seq,
            "last_hash": last_hash,
            "before": canonical_time(before),
        }
        return [AuditEvent(kind="tombstone", request_id=None, occurred_at=clock(), detail=detail)]

    return remove


def _removable_prefix(
    connection: Connection,
    chain_id: str,
    before: datetime,
    retention: RetentionFor,
    now: datetime,
) -> tuple[ChainPurge | None, int]:
    """The chain's removable prefix, and 1 when a department's retention cut it short."""
    rows = connection.execution_options(yield_per=SLICE_RECORDS).execute(
        select(
            EVENT_TABLE.c.seq,
            EVENT_TABLE.c.kind,
            EVENT_TABLE.c.occurred_at,
            EVENT_TABLE.c.department,
            EVENT_TABLE.c.hash,
        )
        .where(EVENT_TABLE.c.chain_id == chain_id)
        .order_by(EVENT_TABLE.c.seq)
    )
    first: int | None = None
    last: tuple[int, str] | None = None
    held = 0
    for row in rows:
        if row.kind == "tombstone" or row.occurred_at >= before:
            break
        if row.occurred_at >= now - retention(row.department):
            held = 1
            break
        first = row.seq if first is None else first
        last = (row.seq, row.hash)
    rows.close()
    if first is None or last is None:
        return None, held
    return ChainPurge(chain_id, first, last[0], last[1]), held
