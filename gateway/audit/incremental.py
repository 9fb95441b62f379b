"""Incremental, throttled, tenant-scoped verification for the compliance API and page.

The CLI re-hashes everything (``verify_trail``). A long-running gateway instead remembers,
per chain, how far it has verified: the last anchored statement whose records all checked
out. Each run reads only the anchor lines and records that are new since then, checks
that the remembered head record is still there unchanged, and looks for chains the anchor
never saw among the rows written since the last run. Runs happen at most once per
``verify_interval_seconds`` (any tenant); in between, callers get the last result.

An officer sees only their tenant's share: how many of *their* records are covered by a
verified signature and how many wait for one. A problem anywhere makes the result fail
(the trail's integrity is shared), but its details (chain ids, other tenants' rows, counts)
are named only to the CLI; an officer is told the row id only when the row is theirs.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine, func, select

from gateway.audit.anchor import AnchorContents, FileAnchor
from gateway.audit.chain import CHAIN_TABLE, CHECKPOINT_TABLE
from gateway.audit.config import AuditConfig
from gateway.audit.rows import EVENT_TABLE
from gateway.audit.signing import Checkpoint, signature_is_valid
from gateway.audit.stored import StoredRow, load_tombstones
from gateway.identity.clock import utc_now

ROW_BATCH = 2000
FAILED_MESSAGE = (
    "the audit trail failed verification; an operator must run `enclave audit verify` "
    "for the details"
)


@dataclass(slots=True)
class _Progress:
    """How far one chain is verified: through ``seq`` (hash ``hash``), after ``statements``."""

    seq: int = 0
    hash: str = ""
    statements: int = 0
    digest: str = ""
    covered: Counter[str] = field(default_factory=Counter)
    """Tenant → records covered by a verified statement."""
    problem: str | None = None
    problem_row: tuple[int, str | None] | None = None
    """(row id, its tenant) of the problem, when a row is to blame."""


@dataclass(frozen=True, slots=True)
class TenantVerification:
    """One tenant's view of the last verification run."""

    ok: bool
    records: int
    """The tenant's records covered by a verified signed statement."""
    unsigned: int
    """The tenant's newer records, not yet covered by a signed statement."""
    verified_at: datetime | None
    problem: str | None
    row_id: int | None
    """The row to look at, only when it is the tenant's own."""


class _Failure(Exception):
    def __init__(self, message: str, row: StoredRow | None = None) -> None:
        super().__init__(message)
        self.row = row


class IncrementalVerifier:
    """Built once per gateway (app state); ``verify(tenant)`` is safe from any thread."""

    def __init__(
        self,
        engine: Engine,
        config: AuditConfig,
        public_keys: Callable[[], Mapping[str, Ed25519PublicKey]],
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._config = config
        self._public_keys = public_keys
        self._clock = clock
        self._anchor = FileAnchor(config.anchor_path)
        self._lock = threading.Lock()
        self._anchor_offsets: dict[Path, int] = {}
        self._anchored = AnchorContents()
        self._progress: dict[str, _Progress] = {}
        self._unsigned: Counter[str] = Counter()
        self._watermark = 0
        self._last_run: datetime | None = None

    def verify(self, tenant: str) -> TenantVerification:
        """The tenant's view, after a fresh incremental run if the last is old enough."""
        with self._lock:
            now = self._clock()
            interval = timedelta(seconds=self._config.verify_interval_seconds)
            if self._last_run is None or now - self._last_run >= interval:
                self._run(now)
                self._last_run = now
            return self._view(tenant)

    def _run(self, now: datetime) -> None:
        keys = self._public_keys()
        self._anchor.read_new(self._anchor_offsets, self._anchored)
        self._unsigned = Counter()
        with self._engine.connect() as connection, connection.begin():
            tombstones = {
                c: (t.through_seq, t.last_hash) for c, t in load_tombstones(connection).items()
            }
            for chain_id in self._chains_to_check(connection):
                progress = self._progress.setdefault(chain_id, _Progress())
                if progress.problem is not None:
                    continue
                try:
                    self._advance(
                        connection, chain_id, progress, keys, tombstones.get(chain_id), now
                    )
                except _Failure as failure:
                    progress.problem = str(failure)
                    row = failure.row
                    if row is not None:
                        progress.problem_row = (row.id, _text(row.columns.get("tenant")))

    def _chains_to_check(self, connection: Connection) -> list[str]:
        new_rows = connection.execute(
            select(EVENT_TABLE.c.chain_id, func.max(EVENT_TABLE.c.id))
            .where(EVENT_TABLE.c.id > self._watermark)
            .group_by(EVENT_TABLE.c.chain_id)
        ).all()
        self._watermark = max([self._watermark, *(int(row[1]) for row in new_rows)])
        registered = connection.execute(select(CHAIN_TABLE.c.chain_id)).scalars()
        return sorted(
            {*self._anchored.chains, *self._progress, *registered, *(r[0] for r in new_rows)}
        )

    def _advance(
        self,
        connection: Connection,
        chain_id: str,
        progress: _Progress,
        keys: Mapping[str, Ed25519PublicKey],
        tombstone: tuple[int, str] | None,
        now: datetime,
    ) -> None:
        anchored = self._anchored.chains.get(chain_id, [])
        if not anchored:
            first = _row_after(connection, chain_id, 0)
            just_opened = first is not None and now - first.columns["occurred_at"] < self._bound
            if just_opened:  # its open statement is anchored just after its commit
                return
            raise _Failure("records of a chain the anchor never saw opened", first)
        if tombstone is not None and tombstone[0] >= progress.seq:  # purged past our head
            progress.seq, progress.hash = tombstone
        self._check_head_still_there(connection, chain_id, progress, tombstone)
        stored = _stored_signatures(connection, chain_id, progress.seq)
        for statement in anchored[progress.statements :]:
            _check_statement(statement, progress, keys)
            if statement.seq > progress.seq:
                self._verify_rows(connection, chain_id, progress, statement)
            elif (
                statement.seq == progress.seq
                and progress.hash
                and statement.head_hash != progress.hash
            ):
                raise _Failure("a signed statement does not match its record")
            if (
                statement.seq > (tombstone[0] if tombstone else 0)
                and statement.signature not in stored
            ):
                raise _Failure("a signed statement held by the anchor is missing from the database")
            progress.statements += 1
            progress.digest = statement.digest
        self._count_unsigned(connection, chain_id, progress, anchored[-1], now)

    def _check_head_still_there(
        self,
        connection: Connection,
        chain_id: str,
        progress: _Progress,
        tombstone: tuple[int, str] | None,
    ) -> None:
        if progress.seq == 0 or (tombstone is not None and tombstone[0] >= progress.seq):
            return
        stored = connection.execute(
            select(EVENT_TABLE.c.hash).where(
                EVENT_TABLE.c.chain_id == chain_id, EVENT_TABLE.c.seq == progress.seq
            )
        ).scalar_one_or_none()
        if stored != progress.hash:
            raise _Failure("a record verified earlier was removed or changed")

    def _verify_rows(
        self, connection: Connection, chain_id: str, progress: _Progress, statement: Checkpoint
    ) -> None:
        result = connection.execution_options(yield_per=ROW_BATCH).execute(
            select(EVENT_TABLE)
            .where(
                EVENT_TABLE.c.chain_id == chain_id,
                EVENT_TABLE.c.seq.between(progress.seq + 1, statement.seq),
            )
            .order_by(EVENT_TABLE.c.seq)
        )
        seq, head, counted = progress.seq, progress.hash or None, Counter[str]()
        with result:
            for mapping in result.mappings():
                row = StoredRow.from_mapping(mapping)
                linked = head is None or row.prev_hash == head
                if not (row.content_ok and row.seq == seq + 1 and linked):
                    raise _Failure("a record does not match its hash or chain", row)
                seq, head = row.seq, row.hash
                counted[_text(row.columns.get("tenant")) or ""] += 1
        if seq != statement.seq or head != statement.head_hash:
            raise _Failure("records covered by a signed statement are missing or were rewritten")
        progress.seq, progress.hash = seq, head or ""
        progress.covered.update(counted)

    def _count_unsigned(
        self,
        connection: Connection,
        chain_id: str,
        progress: _Progress,
        last: Checkpoint,
        now: datetime,
    ) -> None:
        rows = connection.execute(
            select(EVENT_TABLE.c.tenant, func.count(), func.min(EVENT_TABLE.c.occurred_at))
            .where(EVENT_TABLE.c.chain_id == chain_id, EVENT_TABLE.c.seq > progress.seq)
            .group_by(EVENT_TABLE.c.tenant)
        ).all()
        if not rows:
            return
        if last.final:
            raise _Failure("records follow the chain's final signed statement")
        oldest = min(row[2] for row in rows)
        if now - oldest > self._bound:
            raise _Failure("records are not covered by a signed statement within the bound")
        for tenant, count, _ in rows:
            self._unsigned[tenant or ""] += int(count)

    @property
    def _bound(self) -> timedelta:
        return timedelta(seconds=self._config.unsigned_tail_max_seconds)

    def _view(self, tenant: str) -> TenantVerification:
        problems = [p for p in self._progress.values() if p.problem is not None]
        own_row = next(
            (p.problem_row[0] for p in problems if p.problem_row and p.problem_row[1] == tenant),
            None,
        )
        failed = bool(problems) or bool(self._anchored.damaged_lines)
        return TenantVerification(
            ok=not failed,
            records=sum(p.covered[tenant] for p in self._progress.values()),
            unsigned=self._unsigned[tenant],
            verified_at=self._last_run,
            problem=FAILED_MESSAGE if failed else None,
            row_id=own_row,
        )


def _check_statement(
    statement: Checkpoint, progress: _Progress, keys: Mapping[str, Ed25519PublicKey]
) -> None:
    if not signature_is_valid(statement, keys):
        raise _Failure("a signed statement in the anchor does not verify")
    if progress.statements and statement.previous != progress.digest:
        raise _Failure("the anchor's statements do not link")


def _stored_signatures(connection: Connection, chain_id: str, from_seq: int) -> set[str]:
    table = CHECKPOINT_TABLE
    statement = select(table.c.signature).where(
        table.c.chain_id == chain_id, table.c.seq >= from_seq
    )
    return set(connection.execute(statement).scalars())


def _row_after(connection: Connection, chain_id: str, seq: int) -> StoredRow | None:
    mapping = (
        connection.execute(
            select(EVENT_TABLE)
            .where(EVENT_TABLE.c.chain_id == chain_id, EVENT_TABLE.c.seq > seq)
            .order_by(EVENT_TABLE.c.seq)
            .limit(1)
        )
        .mappings()
        .first()
    )
    return None if mapping is None else StoredRow.from_mapping(mapping)


def _text(value: object) -> str | None:
    return None if value is None else str(value)
