"""What an intruder with database access would do to the audit trail, done directly in SQL."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update

from gateway.audit.canonical import record_hash
from gateway.audit.rows import EVENT_TABLE

TABLE = EVENT_TABLE


def row_at(engine: Engine, chain_id: str, seq: int) -> dict[str, Any]:
    with engine.connect() as connection:
        row = (
            connection.execute(
                select(TABLE).where(TABLE.c.chain_id == chain_id, TABLE.c.seq == seq)
            )
            .mappings()
            .one()
        )
    return dict(row)


def edit(engine: Engine, chain_id: str, seq: int, *, rehash: bool = False, **changes: Any) -> int:
    """Change columns of one row (and, with ``rehash``, recompute its hash); its id."""
    row = {**row_at(engine, chain_id, seq), **changes}
    if rehash:
        row["hash"] = record_hash(row)
    _update(engine, row)
    return int(row["id"])


def delete_seq(engine: Engine, chain_id: str, *seqs: int) -> None:
    with engine.begin() as connection:
        connection.execute(delete(TABLE).where(TABLE.c.chain_id == chain_id, TABLE.c.seq.in_(seqs)))


def shift(engine: Engine, chain_id: str, from_seq: int, by: int) -> None:
    """Renumber every row from ``from_seq`` on by ``by`` (in two steps: seq is unique)."""
    with engine.begin() as connection:
        mine = (TABLE.c.chain_id == chain_id) & (TABLE.c.seq >= from_seq)
        connection.execute(update(TABLE).where(mine).values(seq=-(TABLE.c.seq + by)))
        flipped = (TABLE.c.chain_id == chain_id) & (TABLE.c.seq < 0)
        connection.execute(update(TABLE).where(flipped).values(seq=-TABLE.c.seq))


def swap(engine: Engine, chain_id: str, first: int, second: int) -> tuple[int, int]:
    """Exchange the positions of two rows; their ids (first's, second's)."""
    a, b = row_at(engine, chain_id, first), row_at(engine, chain_id, second)
    with engine.begin() as connection:
        for row_id, seq in ((a["id"], -1), (b["id"], first), (a["id"], second)):
            connection.execute(update(TABLE).where(TABLE.c.id == row_id).values(seq=seq))
    return int(a["id"]), int(b["id"])


def insert_forged(engine: Engine, chain_id: str, seq: int, **changes: Any) -> int:
    """Slip a well-formed row in at ``seq`` (later rows renumbered); its id."""
    before = row_at(engine, chain_id, seq - 1)
    template = row_at(engine, chain_id, seq)
    shift(engine, chain_id, seq, 1)
    forged = {**template, "seq": seq, "prev_hash": before["hash"], **changes}
    forged.pop("id")
    forged["hash"] = record_hash(forged)
    with engine.begin() as connection:
        return int(
            connection.execute(insert(TABLE).values(forged).returning(TABLE.c.id)).scalar_one()
        )


def rehash_from(engine: Engine, chain_id: str, seq: int) -> None:
    """Recompute links and hashes from ``seq`` to the end, as a careful intruder would."""
    with engine.connect() as connection:
        rows = [
            dict(row)
            for row in connection.execute(
                select(TABLE)
                .where(TABLE.c.chain_id == chain_id, TABLE.c.seq >= seq - 1)
                .order_by(TABLE.c.seq)
            ).mappings()
        ]
    for previous, row in pairwise(rows):
        row["prev_hash"] = previous["hash"]
        row["hash"] = record_hash(row)
        _update(engine, row)


def _update(engine: Engine, row: dict[str, Any]) -> None:
    values = {name: value for name, value in row.items() if name != "id"}
    with engine.begin() as connection:
        connection.execute(update(TABLE).where(TABLE.c.id == row["id"]).values(values))
