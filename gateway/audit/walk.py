"""Walking one chain in seq order: hashes, links, gapless seq, checkpoints, references."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.diagnose import SEARCH_RADIUS, ChainProblem, diagnose_break, diagnose_rewrite
from gateway.audit.rows import GENESIS, ChainHead
from gateway.audit.signing import signature_is_valid
from gateway.audit.stored import Reference, RegisteredChain, StoredCheckpoint, StoredRow, Tombstone

REWRITE_BUFFER = 20_000
"""Most rows since the last confirmed checkpoint kept to explain a re-hashed stretch."""


@dataclass(frozen=True, slots=True)
class ChainReport:
    """What ``verify`` found in one chain."""

    chain_id: str
    records: int
    first_seq: int | None
    last_seq: int | None
    signed_through: int | None
    """The highest seq a valid checkpoint signature vouches for."""
    closed: bool
    """The writer closed the chain with a final signed checkpoint."""
    purged_through: int | None
    problem: ChainProblem | None
    first_row_id: int | None = None
    first_unsigned: StoredRow | None = None
    """The oldest record after the last valid signed statement (None when all are covered)."""
    unsigned: int = 0
    """Records after the last valid signed statement."""
    unsigned_age_seconds: float | None = None
    """How long the oldest of them has waited for a signature (set by the anchor check)."""


@dataclass(frozen=True, slots=True)
class ChainContext:
    """What is known about a chain before its rows are read."""

    checkpoints: Sequence[StoredCheckpoint]
    references: Sequence[Reference]
    tombstone: Tombstone | None
    registered: RegisteredChain | None
    public_keys: Mapping[str, Ed25519PublicKey]


class ChainWalk:
    def __init__(self, chain_id: str, context: ChainContext) -> None:
        self.chain_id = chain_id
        self._context = context
        tombstone = context.tombstone
        start = (
            GENESIS if tombstone is None else ChainHead(tombstone.through_seq, tombstone.last_hash)
        )
        self._purged_through = None if tombstone is None else tombstone.through_seq
        self._expected = start
        self._checkpoints = deque(cp for cp in context.checkpoints if cp.checkpoint.seq > start.seq)
        self._references = sorted(
            (ref for ref in context.references if ref.seq > start.seq), key=lambda ref: ref.seq
        )
        self._recent: deque[StoredRow] = deque(maxlen=SEARCH_RADIUS)
        self._since_signed: deque[StoredRow] = deque(maxlen=REWRITE_BUFFER)
        self._records = 0
        self._first_seq: int | None = None
        self._last_seq: int | None = None
        self._signed_through: int | None = None
        self._final_seq: int | None = None
        self._broken: StoredRow | None = None
        self._first_row_id: int | None = None
        self._first_unsigned: StoredRow | None = None
        self._unsigned = 0
        self._last_digest: str | None = None if tombstone is not None else ""
        """Digest of the last valid statement; None where a purge removed it."""
        self.problem: ChainProblem | None = None

    def feed(self, row: StoredRow) -> bool:
        """Check the next row; True when it breaks the chain (call ``explain_break`` next)."""
        self._records += 1
        self._first_seq = row.seq if self._first_seq is None else self._first_seq
        self._first_row_id = row.id if self._first_row_id is None else self._first_row_id
        self._last_seq = row.seq
        if self.problem is not None or self._broken is not None:
            return False
        if self._final_seq is not None:
            self.problem = ChainProblem(
                "inserted",
                row.id,
                row.seq,
                f"row id {row.id} (seq {row.seq}) follows the chain's final signed checkpoint "
                f"(seq {self._final_seq})",
            )
            return False
        expected = self._expected
        if not (row.content_ok and row.seq == expected.seq + 1 and row.prev_hash == expected.hash):
            self._broken = row
            return True
        self._accept(row)
        return False

    def explain_break(self, following: Sequence[StoredRow]) -> None:
        """Name the problem at the broken row, given up to SEARCH_RADIUS rows after it."""
        broken, self._broken = self._broken, None
        if broken is None:
            return
        rows = [*self._recent, broken, *following]
        expected = self._expected
        self.problem = diagnose_break(rows, len(self._recent), expected.seq + 1, expected.hash)

    def finish(self) -> ChainReport:
        if self.problem is None:
            self.problem = self._missing_tail() or self._missing_chain()
        return ChainReport(
            chain_id=self.chain_id,
            records=self._records,
            first_seq=self._first_seq,
            last_seq=self._last_seq,
            signed_through=self._signed_through,
            closed=self._final_seq is not None,
            purged_through=self._purged_through,
            problem=self.problem,
            first_row_id=self._first_row_id,
            first_unsigned=self._first_unsigned,
            unsigned=self._unsigned,
        )

    def _accept(self, row: StoredRow) -> None:
        self._expected = ChainHead(row.seq, row.hash)
        self._recent.append(row)
        self._since_signed.append(row)
        self._unsigned += 1
        self._first_unsigned = self._first_unsigned or row
        while self._checkpoints and self._checkpoints[0].checkpoint.seq == row.seq:
            self._check_signed_head(self._checkpoints.popleft(), row)
        while self._references and self._references[0].seq == row.seq and self.problem is None:
            self._check_reference(self._references.pop(0), row)

    def _check_signed_head(self, stored: StoredCheckpoint, row: StoredRow) -> None:
        if self.problem is not None:
            return
        checkpoint = stored.checkpoint
        if not signature_is_valid(checkpoint, self._context.public_keys):
            self.problem = _forged(stored)
        elif self._last_digest is not None and checkpoint.previous != self._last_digest:
            self.problem = ChainProblem(
                "deleted",
                None,
                checkpoint.seq,
                f"a signed statement before checkpoint id {stored.id} (seq {checkpoint.seq}) is "
                "missing: it links to a statement the database no longer holds",
                stored.id,
            )
        elif checkpoint.head_hash != row.hash:
            witness = f"checkpoint id {stored.id} was signed"
            self.problem = diagnose_rewrite(list(self._since_signed), row, witness, stored.id)
        else:
            self._signed_through = row.seq
            self._final_seq = row.seq if checkpoint.final else self._final_seq
            self._last_digest = checkpoint.digest
            self._since_signed.clear()
            self._first_unsigned, self._unsigned = None, 0

    def _check_reference(self, reference: Reference, row: StoredRow) -> None:
        if reference.hash != row.hash:
            by = reference.by_row
            witness = f"row id {by.id} of chain {by.chain_id} recorded this chain's head"
            self.problem = diagnose_rewrite(list(self._since_signed), row, witness, None)

    def _missing_tail(self) -> ChainProblem | None:
        last = self._expected.seq
        if self._checkpoints:
            stored = self._checkpoints[0]
            if not signature_is_valid(stored.checkpoint, self._context.public_keys):
                return _forged(stored)
            return ChainProblem(
                "deleted",
                None,
                last + 1,
                f"records seq {last + 1}-{stored.checkpoint.seq} are missing from the end of the "
                f"chain (checkpoint id {stored.id} was signed at seq {stored.checkpoint.seq})",
                stored.id,
            )
        if self._references:
            reference = self._references[0]
            return ChainProblem(
                "deleted",
                None,
                last + 1,
                f"records from seq {last + 1} are missing: row id {reference.by_row.id} of chain "
                f"{reference.by_row.chain_id} saw this chain at seq {reference.seq}",
            )
        return None

    def _missing_chain(self) -> ChainProblem | None:
        registered = self._context.registered
        if registered is None:
            return None
        if self._records == 0 and self._purged_through is None:
            return ChainProblem(
                "deleted", None, 1, "the chain is registered but all its records are missing"
            )
        if registered.closed_at is not None and self._records and self._final_seq is None:
            return ChainProblem(
                "deleted",
                None,
                self._expected.seq + 1,
                "the chain was closed but its final signed checkpoint is missing: records "
                "at its end may have been removed",
            )
        return None


def _forged(stored: StoredCheckpoint) -> ChainProblem:
    checkpoint = stored.checkpoint
    return ChainProblem(
        "forged",
        None,
        checkpoint.seq,
        f"checkpoint id {stored.id} (seq {checkpoint.seq}): its signature does not verify with "
        f"a trusted key (key id {checkpoint.key_id})",
        stored.id,
    )
