"""Closing a dead chain at recovery: the new process signs for the dead writer's tail.

A writer killed with SIGKILL leaves records after its last signed statement. The process
that finds the chain dead (see ``recovery``) checks that tail (each record hashes to its
stored hash and links to the one before, starting from the last statement the anchor or
the database holds) and, if it is intact, signs a ``recovered`` statement over the chain's
last record, linked to that statement, which ends the chain. Statements the dead writer
committed but did not live to anchor are anchored first. A tail that does not check out is
not signed: ``verify`` then reports it (records not covered by a signature).

This signature vouches that the tail was intact when the dead chain was found, not that
the dead writer wrote it: a database-only attacker who appends to a chain in the seconds
between a crash and the next start gets their rows covered. Recovery runs at start-up and
every ``checkpoint_seconds / 2`` after a chain is declared dead, which keeps that window short.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from gateway.audit.chain import CHECKPOINT_TABLE, insert_checkpoint
from gateway.audit.events import AuditEvent
from gateway.audit.keys import trusted_public_keys
from gateway.audit.recovery import (
    WRITER_DIED,
    claim_settlement,
    incomplete_event,
    unfinished_requests,
)
from gateway.audit.rows import EVENT_TABLE, ChainHead
from gateway.audit.signing import ChainSigner, Checkpoint, signature_is_valid
from gateway.audit.stored import StoredRow, checkpoint_of
from gateway.errors import ConfigurationError

log = structlog.get_logger("enclave.audit")


def settle_dead_chain(
    connection: Connection,
    chain_id: str,
    anchored: Sequence[Checkpoint],
    signer: ChainSigner,
    key_file: Path,
    now: datetime,
) -> tuple[list[AuditEvent], list[Checkpoint]]:
    """Claim the dead chain, close it (``close_dead_chain``) and mark its unfinished requests.

    Returns the ``incomplete`` events (for the settling writer's own chain) and the
    statements to anchor once the transaction commits; nothing when another writer won.
    """
    if not claim_settlement(connection, chain_id, now):
        return [], []
    keys = {**_trusted_keys(key_file), signer.key_id: signer.public_key}
    statements = close_dead_chain(connection, chain_id, anchored, keys, signer, now)
    unfinished = unfinished_requests(connection, chain_id)
    if unfinished:
        log.warning("marking unfinished requests incomplete", chain=chain_id, count=len(unfinished))
    return [incomplete_event(record, now, WRITER_DIED) for record in unfinished], statements


def _trusted_keys(key_file: Path) -> dict[str, Ed25519PublicKey]:
    """The keys folder's public keys (a dead chain may predate a key rotation)."""
    try:
        return trusted_public_keys(key_file)
    except ConfigurationError as exc:
        log.error("audit public keys unreadable", error=str(exc))
        return {}


class TailRefused(Exception):
    """The dead chain's tail cannot be vouched for (the message says why)."""


def close_dead_chain(
    connection: Connection,
    chain_id: str,
    anchored: Sequence[Checkpoint],
    public_keys: Mapping[str, Ed25519PublicKey],
    signer: ChainSigner,
    now: datetime,
) -> list[Checkpoint]:
    """Statements to anchor for ``chain_id`` (catch-up, then ``recovered``); [] if refused."""
    try:
        catch_up = _unanchored_statements(connection, chain_id, anchored, public_keys)
        known = [*anchored, *catch_up]
        if not known:
            raise TailRefused("the anchor never saw this chain opened")
        last = known[-1]
        if last.final:
            return catch_up
        head = _intact_tail_head(connection, chain_id, last)
    except TailRefused as refusal:
        log.error("dead audit chain not signed at recovery", chain=chain_id, reason=str(refusal))
        return []
    recovered = signer.checkpoint(
        chain_id, head.seq, head.hash, now, statement="recovered", previous=last.digest
    )
    insert_checkpoint(connection, recovered)
    log.warning("dead audit chain closed at recovery", chain=chain_id, seq=head.seq)
    return [*catch_up, recovered]


def _unanchored_statements(
    connection: Connection,
    chain_id: str,
    anchored: Sequence[Checkpoint],
    public_keys: Mapping[str, Ed25519PublicKey],
) -> list[Checkpoint]:
    """Valid statements in the database, linked after the anchor's last, the anchor lacks."""
    seen = {statement.signature for statement in anchored}
    previous = anchored[-1].digest if anchored else ""
    rows = connection.execute(
        select(CHECKPOINT_TABLE)
        .where(CHECKPOINT_TABLE.c.chain_id == chain_id)
        .order_by(CHECKPOINT_TABLE.c.seq, CHECKPOINT_TABLE.c.id)
    ).mappings()
    missing: list[Checkpoint] = []
    for row in rows:
        statement = checkpoint_of(row)
        if statement.signature in seen:
            continue
        if not signature_is_valid(statement, public_keys) or statement.previous != previous:
            raise TailRefused(f"checkpoint id {row['id']} is not a valid next statement")
        missing.append(statement)
        previous = statement.digest
    return missing


def _intact_tail_head(connection: Connection, chain_id: str, last: Checkpoint) -> ChainHead:
    rows = connection.execute(
        select(EVENT_TABLE)
        .where(EVENT_TABLE.c.chain_id == chain_id, EVENT_TABLE.c.seq >= last.seq)
        .order_by(EVENT_TABLE.c.seq)
    ).mappings()
    head: ChainHead | None = None
    for mapping in rows:
        row = StoredRow.from_mapping(mapping)
        if head is None:
            if row.seq != last.seq or row.hash != last.head_hash or not row.content_ok:
                raise TailRefused(f"the record at seq {last.seq} does not match its statement")
        elif not (row.content_ok and row.seq == head.seq + 1 and row.prev_hash == head.hash):
            raise TailRefused(f"row id {row.id} (seq {row.seq}) breaks the chain")
        head = ChainHead(row.seq, row.hash)
    if head is None:
        raise TailRefused(f"the record at seq {last.seq} is missing")
    return head
