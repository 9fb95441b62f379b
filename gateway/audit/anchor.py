"""The anchor: every signed statement, appended (and fsynced) outside the audit database.

The database holds the records and their statements; the anchor holds the statements
again, somewhere a database-only attacker cannot reach. ``verify`` compares the two: a
chain the anchor never saw opened is forged, a chain or statement the anchor holds and the
database lacks was deleted, a statement past the database's last record means its tail was
cut. Statements are signed, so the anchor needs no secrecy, only that nobody can shorten it:
keep it on storage that refuses rewrites (an object store with object lock / WORM for a
real deployment, shared by every replica), and back it up with the database.

``FileAnchor`` is the implementation shipped: one JSON line per statement, appended with
``O_APPEND`` (one ``write`` per batch, so processes on one host never interleave lines) and
fsynced before ``append`` returns. A torn last line (a crash mid-write) is skipped on read.
It reads every ``*.jsonl`` in its folder, so replicas on several hosts can each append to a
file of their own in one shared folder (``anchor-<pod>.jsonl``): a chain's statements may
then sit in two files (its own writer's, and the one that closed it at recovery); they are
merged by signature and ordered by seq and signing time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from gateway.audit.canonical import canonical_json, canonical_time
from gateway.audit.signing import FINAL_STATEMENTS, STATEMENT_KINDS, Checkpoint


class AnchorUnavailableError(Exception):
    """The anchor could not be written: the audit store is unavailable (fail closed)."""


@dataclass(slots=True)
class AnchorContents:
    """Statements read from an anchor, chain by chain in statement order."""

    chains: dict[str, list[Checkpoint]] = field(default_factory=dict)
    damaged_lines: list[str] = field(default_factory=list)
    """``file:line`` of lines that are not a statement (damage; a torn last line is skipped)."""

    def add(self, statements: Iterable[Checkpoint]) -> None:
        """Merge ``statements`` in: one copy of each, in (seq, signing time) order per chain."""
        touched: set[str] = set()
        for statement in statements:
            self.chains.setdefault(statement.chain_id, []).append(statement)
            touched.add(statement.chain_id)
        for chain_id in touched:
            unique = {item.signature: item for item in self.chains[chain_id]}
            self.chains[chain_id] = sorted(unique.values(), key=lambda c: (c.seq, c.signed_at))


class AuditAnchor(Protocol):
    """Where signed statements are kept outside the audit database."""

    @property
    def location(self) -> str: ...

    def append(self, statements: Sequence[Checkpoint]) -> None:
        """Make ``statements`` durable, in order; AnchorUnavailableError if that fails."""
        ...

    def read(self) -> AnchorContents:
        """Every statement appended so far."""
        ...


class FileAnchor:
    """An append-only JSON-lines file (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lines_read = 0

    @property
    def location(self) -> str:
        return str(self.path)

    def append(self, statements: Sequence[Checkpoint]) -> None:
        if not statements:
            return
        data = "".join(statement_line(statement) + "\n" for statement in statements).encode()
        try:
            created = not self.path.exists()
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                written = os.write(descriptor, data)
                if written != len(data):
                    raise OSError(f"short write to the anchor ({written} of {len(data)} bytes)")
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            if created:
                _fsync_folder(self.path.parent)
        except OSError as exc:
            raise AnchorUnavailableError(f"{self.path}: {exc.strerror or exc}") from exc

    def read(self) -> AnchorContents:
        contents = AnchorContents()
        self._read_into(contents, {})
        return contents

    def read_new(self, offsets: dict[Path, int], contents: AnchorContents) -> None:
        """Merge into ``contents`` what was appended since ``offsets`` (updated in place)."""
        self._read_into(contents, offsets)

    def files(self) -> list[Path]:
        """This anchor's file and every other ``*.jsonl`` beside it (other replicas')."""
        folder = self.path.parent
        found = set(folder.glob("*.jsonl")) if folder.is_dir() else set()
        return sorted({self.path, *found})

    def _read_into(self, contents: AnchorContents, offsets: dict[Path, int]) -> None:
        for path in self.files():
            try:
                with path.open("rb") as handle:
                    handle.seek(offsets.get(path, 0))
                    data = handle.read()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise AnchorUnavailableError(f"{path}: {exc.strerror or exc}") from exc
            complete = data[: data.rfind(b"\n") + 1]
            statements = []
            for number, line in enumerate(complete.splitlines(), start=1):
                statement = parse_statement(line)
                if statement is None:
                    contents.damaged_lines.append(f"{path.name}:{number}")
                else:
                    statements.append(statement)
            contents.add(statements)
            offsets[path] = offsets.get(path, 0) + len(complete)


def statement_line(statement: Checkpoint) -> str:
    return canonical_json(
        {
            "chain_id": statement.chain_id,
            "seq": statement.seq,
            "head_hash": statement.head_hash,
            "signed_at": canonical_time(statement.signed_at),
            "statement": statement.statement,
            "previous": statement.previous,
            "key_id": statement.key_id,
            "signature": statement.signature,
        }
    )


def parse_statement(line: bytes) -> Checkpoint | None:
    """The statement on one anchor line; None when the line is not one."""
    try:
        data = json.loads(line)
        kind = data["statement"]
        if kind not in STATEMENT_KINDS or not isinstance(data["seq"], int):
            return None
        text = {name: str(data[name]) for name in ("chain_id", "head_hash", "previous")}
        return Checkpoint(
            chain_id=text["chain_id"],
            seq=data["seq"],
            head_hash=text["head_hash"],
            signed_at=datetime.fromisoformat(str(data["signed_at"])),
            final=kind in FINAL_STATEMENTS,
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
            statement=kind,
            previous=text["previous"],
        )
    except (ValueError, KeyError, TypeError):
        return None


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
