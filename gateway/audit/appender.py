"""One writer's chain, appended batch by batch: the synchronous core of the group commit.

Each batch is one transaction: its rows (with seq, prev_hash and hash computed from the
in-memory head) and, when due, a signed checkpoint, which is appended to the anchor once
the transaction has committed (see ``statements``). Opening and closing a chain are
signed statements too, and a dead writer's chain is closed by the process that finds it.
When a transaction fails, nothing of it is kept and the head is reconciled with the
database before the next batch: if the failed commit did land (a lost acknowledgement),
the head moves on; if the chain holds rows this writer never wrote, it is abandoned (closed
at the head it did write) and a fresh chain is opened.

Only the writer thread calls an appender; it is not safe for concurrent use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import structlog
from sqlalchemy import Connection, Engine

from gateway.audit.anchor import AnchorContents, AuditAnchor, FileAnchor
from gateway.audit.chain import (
    ChainIdentity,
    insert_rows,
    new_chain_identity,
    open_chain,
    read_head,
    record_close,
    record_heartbeat,
    sign_head,
)
from gateway.audit.closing import settle_dead_chain
from gateway.audit.config import AuditConfig
from gateway.audit.events import REQUEST_OUTCOMES, AuditEvent, AuditReceipt
from gateway.audit.recovery import WRITER_STOPPED, StartedRecord, dead_chains, incomplete_event
from gateway.audit.rows import GENESIS, ChainHead, PreparedEvent, chain_rows, event_of
from gateway.audit.signing import ChainSigner, Checkpoint
from gateway.audit.statements import ChainStatements

log = structlog.get_logger("enclave.audit")


class ChainDivergedError(Exception):
    """The chain in the database has records this writer did not write."""


SignMode = Literal["when_full", "when_due", "always", "final"]
"""``when_full``: after ``checkpoint_records``; ``when_due``: also after ``checkpoint_seconds``;
``always``: sign this transaction's head; ``final``: sign it and close the chain."""
Batch = Sequence[AuditEvent | PreparedEvent]
MakeEvents = Callable[[Connection], Batch]


@dataclass(frozen=True, slots=True)
class _Attempt:
    """A batch whose rows were inserted but whose commit was not confirmed."""

    head: ChainHead
    events: Batch
    receipts: list[AuditReceipt]
    statement: Checkpoint | None


class ChainAppender:
    def __init__(
        self,
        engine: Engine,
        signer: ChainSigner,
        config: AuditConfig,
        clock: Callable[[], datetime],
        *,
        purpose: str = "",
        anchor: AuditAnchor | None = None,
    ) -> None:
        self._engine = engine
        self._signer = signer
        self._config = config
        self._clock = clock
        self._purpose = purpose
        self.identity: ChainIdentity = new_chain_identity(purpose)
        self._head = GENESIS
        self._signed_seq = 0
        self._count_from = 0
        self._oldest_unsigned: datetime | None = None
        self._last_heartbeat = clock()
        self._unfinished: dict[str, StartedRecord] = {}
        self._attempt: _Attempt | None = None
        self._statements = ChainStatements(anchor or FileAnchor(config.anchor_path))
        self._recovered: list[Checkpoint] = []
        self._anchored = AnchorContents()

    @property
    def head(self) -> ChainHead:
        return self._head

    def open(self) -> None:
        """Register a new chain, append its opening record and sign it (one transaction)."""
        self._statements.flush()
        now = self._clock()
        with self._engine.begin() as connection:
            _, head = open_chain(connection, self.identity, now)
            opened = sign_head(
                connection,
                self._signer,
                self.identity.chain_id,
                head,
                now,
                statement="open",
                previous="",
            )
        self._statements.new_chain()
        self._statements.committed(opened)
        self._head, self._signed_seq, self._attempt = head, head.seq, None
        self._count_from = 0  # the opening statement does not restart the record count
        self._oldest_unsigned, self._last_heartbeat = None, now
        self._statements.flush()

    def reopen(self) -> None:
        """Abandon a chain that holds foreign records (closing it at our head); open a new one."""
        log.error(
            "audit chain holds records this writer did not write; opening a new chain",
            chain=self.identity.chain_id,
        )
        self._abandon()
        self.identity = new_chain_identity(self._purpose)
        self.open()

    def append(self, events: Batch) -> list[AuditReceipt]:
        """Commit ``events`` (and a checkpoint when due) in one transaction; their receipts."""
        batch = list(events)
        return self._write(lambda _connection: batch, sign="when_full")

    def housekeeping(self) -> None:
        """Sign the head and refresh the heartbeat when due; then settle dead chains."""
        self._write(lambda _connection: [], sign="when_due", heartbeat=True)
        self.settle_dead_chains()

    def settle_dead_chains(self) -> int:
        """Append ``incomplete`` for unfinished requests of dead chains; how many were marked."""
        stale_after = timedelta(seconds=self._config.stale_after_seconds)
        with self._engine.connect() as connection:
            candidates = dead_chains(connection, self.identity, self._clock(), stale_after)
        if not candidates:
            return 0
        self._anchored = self._statements.anchor.read()
        return sum(
            len(self._write(self._settlement(chain_id), sign="when_full"))
            for chain_id in candidates
        )

    def write(self, make_events: MakeEvents) -> list[AuditReceipt]:
        """Run ``make_events`` and append what it returns, signed, in one transaction.

        ``make_events`` may change other rows in the same transaction (a purge deletes them).
        """
        return self._write(make_events, sign="always")

    def close(self) -> None:
        """Mark this writer's unfinished requests incomplete, sign a final checkpoint, close."""
        now = self._clock()
        leftovers = [incomplete_event(r, now, WRITER_STOPPED) for r in self._unfinished.values()]
        self._write(lambda _connection: leftovers, sign="final")

    def _settlement(self, chain_id: str) -> MakeEvents:
        def make_events(connection: Connection) -> list[AuditEvent]:
            anchored = self._anchored.chains.get(chain_id, [])
            key_file = self._config.signing_key_file
            events, self._recovered = settle_dead_chain(
                connection, chain_id, anchored, self._signer, key_file, self._clock()
            )
            return events

        return make_events

    def _write(
        self, make_events: MakeEvents, *, sign: SignMode, heartbeat: bool = False
    ) -> list[AuditReceipt]:
        """One transaction; its statement is anchored after the commit (fail closed)."""
        self._statements.flush()
        chain_id = self.identity.chain_id
        self._recovered = []
        with self._engine.begin() as connection:
            self._reconcile(connection)
            now = self._clock()
            events = make_events(connection)
            rows, head = chain_rows(events, chain_id, self._head)
            receipts: list[AuditReceipt] = []
            if rows:
                ids = insert_rows(connection, rows)
                receipts = [
                    AuditReceipt(event_id, chain_id, int(str(row["seq"])), str(row["hash"]))
                    for event_id, row in zip(ids, rows, strict=True)
                ]
            statement = self._sign_if_due(connection, head, now, sign)
            if rows or statement is not None:
                self._attempt = _Attempt(head, events, receipts, statement)
            beat = heartbeat and now - self._last_heartbeat >= self._period
            if sign == "final":
                record_close(connection, chain_id, now)
            elif beat:
                record_heartbeat(connection, chain_id, now)
        self._attempt = None
        self._last_heartbeat = now if beat else self._last_heartbeat
        self._committed(head, now, statement, events, receipts)
        self._statements.flush()
        return receipts

    def _sign_if_due(
        self, connection: Connection, head: ChainHead, now: datetime, sign: SignMode
    ) -> Checkpoint | None:
        if not self._sign_due(head, now, sign):
            return None
        return sign_head(
            connection,
            self._signer,
            self.identity.chain_id,
            head,
            now,
            statement="close" if sign == "final" else "checkpoint",
            previous=self._statements.last_digest,
        )

    def _committed(
        self,
        head: ChainHead,
        now: datetime,
        statement: Checkpoint | None,
        events: Batch,
        receipts: Sequence[AuditReceipt],
    ) -> None:
        if statement is not None:
            self._statements.committed(statement)
        self._statements.also_anchor(self._recovered)
        self._recovered = []
        self._advance(head, now, statement is not None, events, receipts)

    def _abandon(self) -> None:
        """Close the chain at the head this writer last wrote (foreign rows follow it)."""
        now = self._clock()
        try:
            with self._engine.begin() as connection:
                statement = sign_head(
                    connection,
                    self._signer,
                    self.identity.chain_id,
                    self._head,
                    now,
                    statement="close",
                    previous=self._statements.last_digest,
                )
                record_close(connection, self.identity.chain_id, now)
            self._statements.committed(statement)
            self._statements.flush()
        except Exception as exc:  # the new chain matters more than closing the old one
            log.error(
                "abandoned audit chain not closed", chain=self.identity.chain_id, error=str(exc)
            )

    @property
    def _period(self) -> timedelta:
        return timedelta(seconds=self._config.checkpoint_seconds)

    def _sign_due(self, head: ChainHead, now: datetime, sign: SignMode) -> bool:
        if sign in ("always", "final"):
            return True
        if head.seq == self._signed_seq:
            return False
        if head.seq - self._count_from >= self._config.checkpoint_records:
            return True
        oldest = self._oldest_unsigned
        unsigned = head.seq > self._signed_seq
        return (
            sign == "when_due" and unsigned and oldest is not None and now - oldest >= self._period
        )

    def _advance(
        self,
        head: ChainHead,
        now: datetime,
        signed: bool,
        events: Batch,
        receipts: Sequence[AuditReceipt],
    ) -> None:
        self._head = head
        if signed:
            self._signed_seq, self._oldest_unsigned = head.seq, None
            self._count_from = head.seq
        elif self._oldest_unsigned is None and head.seq > self._signed_seq:
            self._oldest_unsigned = now
        self._track_unfinished(events, receipts)

    def _track_unfinished(self, events: Batch, receipts: Sequence[AuditReceipt]) -> None:
        for item, receipt in zip(events, receipts, strict=True):
            event = event_of(item)
            if event.request_id is None:
                continue
            if event.kind == "started":
                record = StartedRecord(event, receipt.event_id, receipt.chain_id, receipt.seq)
                self._unfinished[event.request_id] = record
            elif event.kind in REQUEST_OUTCOMES:
                self._unfinished.pop(event.request_id, None)

    def _reconcile(self, connection: Connection) -> None:
        """Make the in-memory head agree with the database before writing.

        The stored head may be *behind* the in-memory one when a purge removed the chain's
        oldest records up to its newest (its tombstone accounts for them); it may be one
        failed batch *ahead* when that batch's commit landed despite the error. Anything
        else (rows this writer did not write) means the chain cannot be continued.
        """
        attempt, self._attempt = self._attempt, None
        stored = read_head(connection, self.identity.chain_id)
        if stored == self._head:
            return
        if attempt is not None and stored == attempt.head:
            log.warning(
                "an audit batch was committed despite an error", chain=self.identity.chain_id
            )
            self._committed(
                attempt.head, self._clock(), attempt.statement, attempt.events, attempt.receipts
            )
            return
        if stored.seq < self._head.seq:
            if stored.seq > 0:
                log.error(
                    "audit records vanished from the end of this chain",
                    chain=self.identity.chain_id,
                )
            return
        raise ChainDivergedError(self.identity.chain_id)
