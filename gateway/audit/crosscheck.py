"""Comparing one chain in the database with the anchor, and judging its unsigned tail.

The anchor is trusted for *which* chains and statements exist (a database-only attacker
cannot write it); every statement in it must still verify and link to the one before.
Run after the chain's own walk, and only when the walk found nothing: the first problem
of a chain is the one reported.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit.canonical import canonical_time
from gateway.audit.diagnose import ChainProblem
from gateway.audit.recovery import process_exists
from gateway.audit.signing import Checkpoint, signature_is_valid
from gateway.audit.stored import RegisteredChain, StoredCheckpoint
from gateway.audit.walk import ChainReport

FUTURE_SKEW = timedelta(minutes=5)
"""A record dated further ahead than this is not a live writer's recent record."""


@dataclass(frozen=True, slots=True)
class AnchorView:
    """What the cross-check needs besides the chain's own report."""

    anchored: Sequence[Checkpoint] | None
    """The anchor's statements for this chain (None: no anchor was given)."""
    stored: Sequence[StoredCheckpoint]
    registered: RegisteredChain | None
    public_keys: Mapping[str, Ed25519PublicKey]
    now: datetime
    unsigned_tail_max: timedelta | None
    stale_after: timedelta | None = None
    """A writer whose heartbeat is older than this is gone (None: trust the heartbeat)."""


def cross_check(report: ChainReport, view: AnchorView) -> ChainReport:
    """``report`` with the first anchor or coverage problem (and the unsigned tail's age)."""
    report = _with_tail_age(report, view.now)
    if view.anchored is not None and not view.anchored:  # forged, whatever else is wrong
        return dataclasses.replace(report, problem=_anchor_problem(report, view))
    if report.problem is not None:
        return report
    problem = _anchor_problem(report, view) if view.anchored is not None else None
    problem = problem or _tail_problem(report, view)
    return report if problem is None else dataclasses.replace(report, problem=problem)


def _with_tail_age(report: ChainReport, now: datetime) -> ChainReport:
    first = report.first_unsigned
    if first is None:
        return report
    occurred = first.columns["occurred_at"]
    age = (now - occurred).total_seconds() if isinstance(occurred, datetime) else None
    return dataclasses.replace(report, unsigned_age_seconds=age)


def _anchor_problem(report: ChainReport, view: AnchorView) -> ChainProblem | None:
    anchored = list(view.anchored or ())
    chain = report.chain_id
    if not anchored:
        where = (
            "it has no records, only database entries naming it"
            if report.first_row_id is None
            else f"its first row is id {report.first_row_id}, seq {report.first_seq}"
        )
        return ChainProblem(
            "forged",
            report.first_row_id,
            report.first_seq,
            f"chain {chain} is not in the anchor: no gateway holding the signing key opened it "
            f"({where})",
        )
    broken = _broken_anchor_link(anchored, view.public_keys)
    if broken is not None:
        return broken
    purged = report.purged_through or 0
    last_anchored = anchored[-1]
    if report.records == 0 and last_anchored.seq > purged:
        return ChainProblem(
            "deleted",
            None,
            purged + 1,
            f"chain {chain} is missing from the database: the anchor holds {len(anchored)} "
            f"signed statement(s) for it, the last at seq {last_anchored.seq} "
            f"({last_anchored.statement}, {canonical_time(last_anchored.signed_at)})",
        )
    last_seq = report.last_seq or purged
    if last_anchored.seq > last_seq:
        return ChainProblem(
            "deleted",
            None,
            last_seq + 1,
            f"records seq {last_seq + 1}-{last_anchored.seq} are missing from the end of the "
            f"chain: the anchor holds a {last_anchored.statement} statement signed at seq "
            f"{last_anchored.seq} ({canonical_time(last_anchored.signed_at)})",
        )
    return _statement_mismatch(anchored, view, purged)


def _broken_anchor_link(
    anchored: Sequence[Checkpoint], public_keys: Mapping[str, Ed25519PublicKey]
) -> ChainProblem | None:
    previous: str | None = None
    for statement in anchored:
        expected = "" if previous is None else previous
        valid = signature_is_valid(statement, public_keys)
        if not valid or statement.previous != expected:
            what = "does not verify" if not valid else "does not link to the one before it"
            return ChainProblem(
                "forged",
                None,
                statement.seq,
                f"the anchor's {statement.statement} statement at seq {statement.seq} {what}",
            )
        previous = statement.digest
    return None


def _statement_mismatch(
    anchored: Sequence[Checkpoint], view: AnchorView, purged: int
) -> ChainProblem | None:
    in_database = {item.checkpoint.signature: item for item in view.stored}
    for statement in anchored:
        if statement.seq > purged and statement.signature not in in_database:
            return ChainProblem(
                "deleted",
                None,
                statement.seq,
                f"the {statement.statement} statement at seq {statement.seq} (signed "
                f"{canonical_time(statement.signed_at)}) is in the anchor but missing from the "
                "database: a checkpoint was dropped",
            )
    in_anchor = {statement.signature for statement in anchored}
    for item in view.stored:
        if item.checkpoint.signature not in in_anchor and not _may_be_in_flight(item, view):
            return ChainProblem(
                "unanchored",
                None,
                item.checkpoint.seq,
                f"checkpoint id {item.id} (seq {item.checkpoint.seq}) is not in the anchor",
                item.id,
            )
    return None


def _may_be_in_flight(item: StoredCheckpoint, view: AnchorView) -> bool:
    """A live writer anchors a statement just after committing it: allow for that moment."""
    if view.unsigned_tail_max is None or not _alive(view):
        return False
    return view.now - item.checkpoint.signed_at <= view.unsigned_tail_max


def _alive(view: AnchorView) -> bool:
    """Whether the chain's writer may still be running (and so may still sign its tail).

    Closed or settled chains are not; nor is one whose heartbeat is stale, or whose
    process, on this host, no longer exists (as ``recovery.dead_chains`` decides).
    """
    registered = view.registered
    if registered is None or registered.closed_at is not None or registered.settled_at:
        return False
    beat = registered.heartbeat_at
    if view.stale_after is not None and beat is not None and view.now - beat > view.stale_after:
        return False
    here = registered.host == socket.gethostname()[:100]
    return not (here and registered.pid != os.getpid() and not process_exists(registered.pid))


def _tail_problem(report: ChainReport, view: AnchorView) -> ChainProblem | None:
    first = report.first_unsigned
    if first is None or view.unsigned_tail_max is None:
        return None
    alive = _alive(view)
    age = report.unsigned_age_seconds or 0.0
    limit = view.unsigned_tail_max.total_seconds()
    span = f"records seq {first.seq}-{report.last_seq} (from row id {first.id})"
    if not alive:
        reason = "and the chain's writer is gone"
    elif age > limit:
        reason = f"for {age:.0f} s (the bound is {limit:.0f} s)"
    elif age < -FUTURE_SKEW.total_seconds():
        reason = "and the oldest is dated in the future"
    else:
        return None
    return ChainProblem(
        "unsigned", first.id, first.seq, f"{span} are not covered by a signed statement {reason}"
    )
