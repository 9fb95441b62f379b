"""``enclave audit verify``: check every chain and name the first problem in each.

Each chain is walked in seq order: every row's hash is recomputed from its contents, its
``prev_hash`` must be the previous row's hash and seq may not skip. Checkpoint signatures
must verify with a trusted public key and match the row they name; a chain closed with a
final checkpoint may hold nothing after it. A purged chain starts after its tombstone,
which must itself be covered by a valid signature. Opening records name other chains'
heads, so a chain removed whole is missed too. Everything is read in one snapshot.

With an anchor (``VerifyOptions``), each chain is also compared with the statements the
anchor holds (``crosscheck``): chains the anchor never saw, chains, tails and checkpoints
it holds that the database lacks, and records no signed statement covers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, Engine

from gateway.audit.anchor import AuditAnchor
from gateway.audit.crosscheck import AnchorView, cross_check
from gateway.audit.diagnose import SEARCH_RADIUS, ChainProblem
from gateway.audit.stored import (
    RegisteredChain,
    StoredCheckpoint,
    StoredRow,
    Tombstone,
    load_checkpoints,
    load_references,
    load_registry,
    load_tombstones,
    stream_rows,
)
from gateway.audit.walk import ChainContext, ChainReport, ChainWalk
from gateway.errors import ConfigurationError
from gateway.identity.clock import utc_now


@dataclass(frozen=True, slots=True)
class TrailReport:
    chains: tuple[ChainReport, ...]
    anchor: str | None = None
    """Where the anchor was read from (None: verified without one)."""
    anchor_damage: tuple[str, ...] = ()
    """Anchor lines (``file:line``) that hold no statement."""

    @property
    def ok(self) -> bool:
        return not self.anchor_damage and all(chain.problem is None for chain in self.chains)

    @property
    def records(self) -> int:
        return sum(chain.records for chain in self.chains)


@dataclass(frozen=True, slots=True)
class VerifyOptions:
    """The anchor to cross-check against and the unsigned tail's bound (both optional)."""

    anchor: AuditAnchor | None = None
    unsigned_tail_max: timedelta | None = None
    stale_after: timedelta | None = None
    """A writer whose heartbeat is older than this is gone: its unsigned records fail."""
    now: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Walked:
    """Every chain walked in one database snapshot, and what the cross-check needs of it."""

    chains: dict[str, ChainReport]
    context: Callable[[str], ChainContext]
    checkpoints: Mapping[str, list[StoredCheckpoint]]
    registry: Mapping[str, RegisteredChain]


def verify_trail(
    engine: Engine,
    public_keys: Mapping[str, Ed25519PublicKey],
    options: VerifyOptions | None = None,
) -> TrailReport:
    """Walk every chain; a report per chain with its first problem (if any).

    The anchor is read *before* the database snapshot is taken: a live writer anchors a
    statement just after committing it, so the snapshot can only hold more, never less.
    """
    if not public_keys:
        raise ConfigurationError(
            "no trusted audit public key: create the signing key (`enclave audit init-key`) "
            "or pass --public-key FILE"
        )
    options = options or VerifyOptions()
    anchored = options.anchor.read() if options.anchor is not None else None
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            walked = _verify(connection, public_keys)
    if anchored is None or options.anchor is None:
        return TrailReport(chains=tuple(walked.chains[c] for c in sorted(walked.chains)))
    for chain_id in anchored.chains.keys() - walked.chains.keys():
        walked.chains[chain_id] = ChainWalk(chain_id, walked.context(chain_id)).finish()
    now = options.now or utc_now()
    checked = []
    for chain_id in sorted(walked.chains):
        view = AnchorView(
            anchored=anchored.chains.get(chain_id, []),
            stored=walked.checkpoints.get(chain_id, []),
            registered=walked.registry.get(chain_id),
            public_keys=public_keys,
            now=now,
            unsigned_tail_max=options.unsigned_tail_max,
            stale_after=options.stale_after,
        )
        checked.append(cross_check(walked.chains[chain_id], view))
    return TrailReport(
        chains=tuple(checked),
        anchor=options.anchor.location,
        anchor_damage=tuple(anchored.damaged_lines),
    )


def _verify(connection: Connection, public_keys: Mapping[str, Ed25519PublicKey]) -> _Walked:
    checkpoints = load_checkpoints(connection)
    tombstones = load_tombstones(connection)
    references = load_references(connection)
    registry = load_registry(connection)

    def context(chain_id: str) -> ChainContext:
        return ChainContext(
            checkpoints=checkpoints.get(chain_id, []),
            references=references.get(chain_id, []),
            tombstone=tombstones.get(chain_id),
            registered=registry.get(chain_id),
            public_keys=public_keys,
        )

    reports: dict[str, ChainReport] = {}
    for walk in _walk_rows(_Lookahead(stream_rows(connection)), context):
        reports[walk.chain_id] = walk.finish()
    known = {*checkpoints, *tombstones, *references, *registry}
    for chain_id in sorted(known - set(reports)):
        reports[chain_id] = ChainWalk(chain_id, context(chain_id)).finish()
    for chain_id, tombstone in tombstones.items():
        reports[chain_id] = _check_tombstone(reports[chain_id], tombstone, reports)
    return _Walked(reports, context, checkpoints, registry)


def report_json(report: TrailReport) -> dict[str, Any]:
    """The report as JSON-able data (``verify --json``, the compliance API)."""
    chains = []
    for chain in report.chains:
        problem = chain.problem
        chains.append(
            {
                "chain_id": chain.chain_id,
                "records": chain.records,
                "first_seq": chain.first_seq,
                "last_seq": chain.last_seq,
                "signed_through": chain.signed_through,
                "closed": chain.closed,
                "purged_through": chain.purged_through,
                "unsigned": chain.unsigned,
                "unsigned_age_seconds": chain.unsigned_age_seconds,
                "problem": None
                if problem is None
                else {
                    "kind": problem.kind,
                    "row_id": problem.row_id,
                    "seq": problem.seq,
                    "checkpoint_id": problem.checkpoint_id,
                    "message": problem.message,
                },
            }
        )
    return {
        "ok": report.ok,
        "records": report.records,
        "anchor": report.anchor,
        "anchor_damaged_lines": list(report.anchor_damage),
        "chains": chains,
    }


def _walk_rows(rows: _Lookahead, context: Callable[[str], ChainContext]) -> Iterator[ChainWalk]:
    walk: ChainWalk | None = None
    for row in rows:
        if walk is None or walk.chain_id != row.chain_id:
            if walk is not None:
                yield walk
            walk = ChainWalk(row.chain_id, context(row.chain_id))
        if walk.feed(row):
            following = rows.take_while_same_chain(row.chain_id, SEARCH_RADIUS)
            walk.explain_break(following)
            for later in following:
                walk.feed(later)
    if walk is not None:
        yield walk


def _check_tombstone(
    report: ChainReport, tombstone: Tombstone, reports: Mapping[str, ChainReport]
) -> ChainReport:
    """A chain may start after a purge only if the tombstone saying so is signed."""
    row = tombstone.row
    home = reports.get(row.chain_id)
    signed = home is not None and (home.signed_through or 0) >= row.seq
    intact = home is not None and (home.problem is None or (home.problem.seq or 0) > row.seq)
    if signed and intact:
        return report
    problem = ChainProblem(
        "forged",
        row.id,
        row.seq,
        f"records seq 1-{tombstone.through_seq} were removed and the tombstone accounting for "
        f"them (row id {row.id}, chain {row.chain_id}) is not covered by a valid signed checkpoint",
    )
    return dataclasses.replace(report, problem=problem)


class _Lookahead:
    """An iterator over rows that can read ahead within a chain and give back what it overran."""

    def __init__(self, rows: Iterator[StoredRow]) -> None:
        self._rows = rows
        self._held: StoredRow | None = None

    def __iter__(self) -> Iterator[StoredRow]:
        return self

    def __next__(self) -> StoredRow:
        if self._held is not None:
            row, self._held = self._held, None
            return row
        return next(self._rows)

    def take_while_same_chain(self, chain_id: str, limit: int) -> list[StoredRow]:
        taken: list[StoredRow] = []
        while len(taken) < limit:
            row = next(self, None)
            if row is None:
                break
            if row.chain_id != chain_id:
                self._held = row
                break
            taken.append(row)
        return taken
