"""Naming what went wrong where a chain breaks: altered, deleted, inserted or reordered.

A break is where a row's contents no longer match its hash, its seq skips, or it does not
link to the row before it. The rows around the break tell the story: a row whose contents
hash correctly at *another* seq was moved (reordered, or renumbered after an insertion or
deletion); the row it links to says which. Row ids help where hashes cannot: the writer
inserts in seq order, so a row whose id is larger than every later row's was written later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from gateway.audit.stored import StoredRow

ProblemKind = Literal[
    "altered", "deleted", "inserted", "reordered", "forged", "unsigned", "unanchored"
]
SEARCH_RADIUS = 64
"""How far (in seq) a moved row's original position is looked for."""


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """The first thing wrong with a chain."""

    kind: ProblemKind
    row_id: int | None
    """The row to look at (None when the records named are gone)."""
    seq: int | None
    message: str
    checkpoint_id: int | None = None


def diagnose_break(
    rows: Sequence[StoredRow], index: int, expected_seq: int, expected_prev: str
) -> ChainProblem:
    """Why ``rows[index]`` breaks the chain, given what the chain expected at that point."""
    row = rows[index]
    if row.content_ok and row.seq > expected_seq:
        return _deleted(expected_seq, row)
    if not row.content_ok:
        original = _original_seq(row)
        if original is None:
            return _changed_contents(rows, index, expected_prev)
        return _moved(rows, index, original)
    return _broken_link(rows, index)


def diagnose_rewrite(
    rows: Sequence[StoredRow], signed_row: StoredRow, witness: str, checkpoint_id: int | None
) -> ChainProblem:
    """A self-consistent chain whose vouched-for head no longer matches: it was re-hashed.

    ``rows`` are the records since the last head that still matched; ``witness`` says what
    vouched for ``signed_row``'s original hash ("checkpoint id 7 was signed").
    """
    for index, row in enumerate(rows[:-1]):
        later_ids = [later.id for later in rows[index + 1 :]]
        if row.id > later_ids[0]:
            if row.id > max(later_ids):
                return _inserted(
                    row, "was written after the records that follow it (re-hashed chain)"
                )
            return ChainProblem(
                "reordered",
                row.id,
                row.seq,
                f"row id {row.id} (seq {row.seq}) was written after row id {later_ids[0]} "
                "yet now precedes it (the chain was re-hashed to hide it)",
            )
    first = rows[0].seq if rows else signed_row.seq
    return ChainProblem(
        "altered",
        signed_row.id,
        signed_row.seq,
        f"records between seq {first} and {signed_row.seq} were rewritten and re-hashed after "
        f"{witness}: row id {signed_row.id} (seq {signed_row.seq}) no longer has that hash",
        checkpoint_id,
    )


def _deleted(expected_seq: int, row: StoredRow) -> ChainProblem:
    missing = (
        f"record seq {expected_seq} is"
        if row.seq == expected_seq + 1
        else f"records seq {expected_seq}-{row.seq - 1} are"
    )
    return ChainProblem(
        "deleted",
        None,
        expected_seq,
        f"{missing} missing (the chain resumes at row id {row.id}, seq {row.seq})",
    )


def _changed_contents(rows: Sequence[StoredRow], index: int, expected_prev: str) -> ChainProblem:
    row = rows[index]
    following = rows[index + 1 :]
    skipped_over = bool(following) and following[0].prev_hash == expected_prev
    written_later = bool(following) and row.id > max(later.id for later in following)
    if skipped_over or (row.prev_hash != expected_prev and written_later):
        return _inserted(row, "does not belong to the chain (the next record links past it)")
    return ChainProblem(
        "altered",
        row.id,
        row.seq,
        f"row id {row.id} (seq {row.seq}): its contents do not match its hash",
    )


def _moved(rows: Sequence[StoredRow], index: int, original: int) -> ChainProblem:
    row = rows[index]
    linked = _find(rows, row.prev_hash)
    if linked is not None and linked.seq > row.seq:
        return _reordered(row, original, linked)
    if linked is not None and linked.seq < row.seq - 1:
        return _inserted(_next_after(rows, linked), "was slipped in and later records renumbered")
    if linked is None and original > row.seq:
        return ChainProblem(
            "deleted",
            None,
            row.seq,
            f"the record(s) before row id {row.id} were removed and later records renumbered "
            f"(row id {row.id} was recorded at seq {original}, now sits at seq {row.seq})",
        )
    return ChainProblem(
        "reordered",
        row.id,
        row.seq,
        f"row id {row.id} was recorded at seq {original} but now sits at seq {row.seq}",
    )


def _broken_link(rows: Sequence[StoredRow], index: int) -> ChainProblem:
    row = rows[index]
    linked = _find(rows, row.prev_hash)
    if linked is not None and linked.seq > row.seq:
        return _reordered(row, row.seq, linked)
    if linked is not None and linked.seq < row.seq - 1:
        return _inserted(_next_after(rows, linked), "was slipped in between linked records")
    previous = rows[index - 1] if index > 0 and rows[index - 1].seq == row.seq - 1 else None
    if previous is None:
        return ChainProblem(
            "altered",
            row.id,
            row.seq,
            f"row id {row.id} (seq {row.seq}) does not link to the record before it "
            "(that record was altered, or removed)",
        )
    if previous.id > row.id:
        return _inserted(previous, "was written after the record that follows it")
    return ChainProblem(
        "altered",
        previous.id,
        previous.seq,
        f"row id {previous.id} (seq {previous.seq}) was changed and its hash recomputed: "
        f"row id {row.id} (seq {row.seq}) still links to its original hash",
    )


def _reordered(row: StoredRow, recorded_seq: int, linked: StoredRow) -> ChainProblem:
    return ChainProblem(
        "reordered",
        row.id,
        row.seq,
        f"row id {row.id} (now seq {row.seq}, recorded at seq {recorded_seq}) belongs after "
        f"row id {linked.id} (seq {linked.seq}): records were reordered",
    )


def _inserted(row: StoredRow, how: str) -> ChainProblem:
    return ChainProblem("inserted", row.id, row.seq, f"row id {row.id} (seq {row.seq}) {how}")


def _original_seq(row: StoredRow) -> int | None:
    low = max(1, row.seq - SEARCH_RADIUS)
    for seq in range(low, row.seq + SEARCH_RADIUS + 1):
        if seq != row.seq and row.hash_at(seq) == row.hash:
            return seq
    return None


def _find(rows: Sequence[StoredRow], hash_: str) -> StoredRow | None:
    return next((row for row in rows if row.hash == hash_), None)


def _next_after(rows: Sequence[StoredRow], linked: StoredRow) -> StoredRow:
    return next(row for row in rows if row.seq > linked.seq)
