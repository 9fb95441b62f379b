"""A writer's signed statements on their way to the anchor, and the link to the last one.

A statement is anchored right after the transaction that stored it commits (so the anchor
never names a head the database does not hold). If the anchor cannot be written, the
statement waits here and every later batch fails (503) until it can: the trail fails
closed, and no record that was committed is lost.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.audit.anchor import AuditAnchor
from gateway.audit.signing import Checkpoint


class ChainStatements:
    def __init__(self, anchor: AuditAnchor) -> None:
        self._anchor = anchor
        self.last_digest = ""
        """Digest of the chain's newest committed statement ("" before ``open``)."""
        self._unanchored: list[Checkpoint] = []

    @property
    def anchor(self) -> AuditAnchor:
        return self._anchor

    def new_chain(self) -> None:
        """The next statement opens a chain (statements still unanchored stay queued)."""
        self.last_digest = ""

    def committed(self, statement: Checkpoint) -> None:
        """``statement`` of this chain is in the database: link the next one to it."""
        self.last_digest = statement.digest
        self._unanchored.append(statement)

    def also_anchor(self, statements: Iterable[Checkpoint]) -> None:
        """Committed statements of other chains (a dead chain's, closed at recovery)."""
        self._unanchored.extend(statements)

    def flush(self) -> None:
        """Append what waits to the anchor; AnchorUnavailableError (it keeps waiting) if not."""
        if self._unanchored:
            self._anchor.append(self._unanchored)
            self._unanchored = []
