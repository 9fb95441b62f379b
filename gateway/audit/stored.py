"""What ``verify`` reads back: stored rows, checkpoints, tombstones and cross-chain references."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, select

from gateway.audit.canonical import record_hash
from gateway.audit.chain import CHAIN_TABLE, CHECKPOINT_TABLE
from gateway.audit.rows import EVENT_TABLE
from gateway.audit.signing import Checkpoint

STREAM_BATCH = 2000


@dataclass(frozen=True, slots=True)
class StoredRow:
    """One stored event as verification sees it."""

    id: int
    chain_id: str
    seq: int
    kind: str
    prev_hash: str
    hash: str
    columns: Mapping[str, Any] = field(repr=False)
    content_ok: bool
    """The stored hash matches the stored contents."""

    @classmethod
    def from_mapping(cls, row: RowMapping) -> StoredRow:
        columns = dict(row)
        return cls(
            id=row["id"],
            chain_id=row["chain_id"],
            seq=row["seq"],
            kind=row["kind"],
            prev_hash=row["prev_hash"],
            hash=row["hash"],
            columns=columns,
            content_ok=record_hash(columns) == row["hash"],
        )

    def hash_at(self, seq: int) -> str:
        """The hash these contents would have at position ``seq``."""
        return record_hash({**self.columns, "seq": seq})

    def detail(self) -> dict[str, Any]:
        text = self.columns.get("detail")
        try:
            value = json.loads(text) if isinstance(text, str) else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    id: int
    checkpoint: Checkpoint


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A purge's statement that ``chain_id``'s records up to ``through_seq`` were removed."""

    row: StoredRow
    chain_id: str
    through_seq: int
    last_hash: str


@dataclass(frozen=True, slots=True)
class Reference:
    """An opening record's note that ``chain_id`` had ``hash`` at ``seq``."""

    by_row: StoredRow
    chain_id: str
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class RegisteredChain:
    chain_id: str
    opened_at: datetime
    closed_at: datetime | None
    settled_at: datetime | None = None
    host: str = ""
    pid: int = 0
    heartbeat_at: datetime | None = None


def stream_rows(connection: Connection) -> Iterator[StoredRow]:
    """Every event, chain by chain, in seq order (streamed, not loaded at once)."""
    statement = select(EVENT_TABLE).order_by(EVENT_TABLE.c.chain_id, EVENT_TABLE.c.seq)
    result = connection.execution_options(yield_per=STREAM_BATCH).execute(statement)
    for row in result.mappings():
        yield StoredRow.from_mapping(row)


def window(connection: Connection, chain_id: str, low: int, high: int) -> list[StoredRow]:
    """The chain's rows with ``low <= seq <= high``, in seq order."""
    statement = (
        select(EVENT_TABLE)
        .where(EVENT_TABLE.c.chain_id == chain_id, EVENT_TABLE.c.seq.between(low, high))
        .order_by(EVENT_TABLE.c.seq)
    )
    return [StoredRow.from_mapping(row) for row in connection.execute(statement).mappings()]


def load_checkpoints(connection: Connection) -> dict[str, list[StoredCheckpoint]]:
    """Chain id → its checkpoints in seq order."""
    table = CHECKPOINT_TABLE
    statement = select(table).order_by(table.c.chain_id, table.c.seq, table.c.id)
    checkpoints: defaultdict[str, list[StoredCheckpoint]] = defaultdict(list)
    for row in connection.execute(statement).mappings():
        checkpoint = checkpoint_of(row)
        checkpoints[row["chain_id"]].append(StoredCheckpoint(row["id"], checkpoint))
    return dict(checkpoints)


def checkpoint_of(row: RowMapping) -> Checkpoint:
    """A stored ``audit_checkpoints`` row as the statement it holds."""
    return Checkpoint(
        chain_id=row["chain_id"],
        seq=row["seq"],
        head_hash=row["head_hash"],
        signed_at=row["signed_at"],
        final=bool(row["final"]),
        key_id=row["key_id"],
        signature=row["signature"],
        statement=row["statement"],
        previous=row["previous"],
    )


def load_tombstones(connection: Connection) -> dict[str, Tombstone]:
    """Purged chain id → the tombstone reaching furthest into it."""
    newest: dict[str, Tombstone] = {}
    for row in _rows_of_kind(connection, "tombstone"):
        detail = row.detail()
        chain_id, through, last_hash = (
            detail.get("chain_id"),
            detail.get("through_seq"),
            detail.get("last_hash"),
        )
        if not (
            isinstance(chain_id, str) and isinstance(through, int) and isinstance(last_hash, str)
        ):
            continue
        known = newest.get(chain_id)
        if known is None or through > known.through_seq:
            newest[chain_id] = Tombstone(row, chain_id, through, last_hash)
    return newest


def load_references(connection: Connection) -> dict[str, list[Reference]]:
    """Referenced chain id → what opening records of other chains saw of it."""
    references: defaultdict[str, list[Reference]] = defaultdict(list)
    for row in _rows_of_kind(connection, "opened"):
        heads = row.detail().get("heads")
        if not isinstance(heads, dict):
            continue
        for chain_id, head in heads.items():
            if isinstance(head, list) and len(head) == 2:
                seq, hash_ = head
                if isinstance(seq, int) and isinstance(hash_, str):
                    references[chain_id].append(Reference(row, chain_id, seq, hash_))
    return dict(references)


def load_registry(connection: Connection) -> dict[str, RegisteredChain]:
    table = CHAIN_TABLE
    statement = select(
        table.c.chain_id,
        table.c.opened_at,
        table.c.closed_at,
        table.c.settled_at,
        table.c.host,
        table.c.pid,
        table.c.heartbeat_at,
    )
    return {
        row.chain_id: RegisteredChain(
            row.chain_id,
            row.opened_at,
            row.closed_at,
            row.settled_at,
            row.host,
            row.pid,
            row.heartbeat_at,
        )
        for row in connection.execute(statement)
    }


def _rows_of_kind(connection: Connection, kind: str) -> Iterator[StoredRow]:
    statement = select(EVENT_TABLE).where(EVENT_TABLE.c.kind == kind).order_by(EVENT_TABLE.c.id)
    for row in connection.execute(statement).mappings():
        yield StoredRow.from_mapping(row)
