"""The group-commit writer: durable before it answers, chained, gapless, 503 when it cannot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from itertools import pairwise
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, event, func, select, text

from gateway.audit.chain import CHAIN_TABLE, CHECKPOINT_TABLE
from gateway.audit.config import AuditConfig
from gateway.audit.errors import AuditUnavailableError
from gateway.audit.events import AuditEvent
from gateway.audit.rows import EVENT_TABLE
from gateway.audit.signing import ChainSigner
from gateway.audit.verify import verify_trail
from gateway.audit.writer import AuditWriter
from gateway.db.session import create_db_engine
from gateway.errors import ConfigurationError
from tests.unit.audit.trail import request_pair

pytestmark = pytest.mark.anyio


def started(number: int) -> AuditEvent:
    return AuditEvent(kind="started", request_id=f"req-{number:05d}", tenant="acme")


def chain_rows_of(engine: Engine, chain_id: str) -> list[Any]:
    with engine.connect() as connection:
        statement = select(EVENT_TABLE).where(EVENT_TABLE.c.chain_id == chain_id)
        return list(connection.execute(statement.order_by(EVENT_TABLE.c.seq)))


def count_rows(engine: Engine, *conditions: Any) -> int:
    with engine.connect() as connection:
        statement = select(func.count()).select_from(EVENT_TABLE).where(*conditions)
        return int(connection.execute(statement).scalar_one())


async def test_concurrent_appends_are_all_durable_chained_and_gapless(
    engine: Engine,
    signer: ChainSigner,
    audit_config: AuditConfig,
    public_keys: dict[str, Ed25519PublicKey],
) -> None:
    writer = AuditWriter(engine, signer, audit_config)
    await writer.start()
    events = [event for number in range(1000) for event in request_pair(number)]
    receipts = await asyncio.gather(*(writer.append(event) for event in events))
    # Every receipt is already in the database before stop() is called.
    assert count_rows(engine, EVENT_TABLE.c.chain_id == writer.chain_id) == 1 + 2000
    await writer.stop()

    assert len({receipt.seq for receipt in receipts}) == 2000
    assert writer.stats.batches < 2000 / 4, "appends should share commits"
    rows = chain_rows_of(engine, writer.chain_id)
    assert [row.seq for row in rows] == list(range(1, 2002))
    assert all(row.prev_hash == before.hash for before, row in pairwise(rows))
    by_id = {row.id: row for row in rows}
    for receipt in receipts:
        assert by_id[receipt.event_id].hash == receipt.hash
    report = verify_trail(engine, public_keys)
    assert report.ok, report
    (chain,) = report.chains
    assert (chain.records, chain.closed, chain.signed_through) == (2001, True, 2001)


async def test_stop_marks_requests_still_in_flight_incomplete(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig
) -> None:
    writer = AuditWriter(engine, signer, audit_config)
    await writer.start()
    finished, in_flight = request_pair(1), request_pair(2)
    for item in (*finished, in_flight[0]):
        await writer.append(item)
    await writer.stop()
    kinds = [(row.kind, row.request_id) for row in chain_rows_of(engine, writer.chain_id)]
    assert kinds[-1] == ("incomplete", "req-00002")
    assert ("incomplete", "req-00001") not in kinds


async def test_append_after_stop_is_refused_with_503(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig
) -> None:
    writer = AuditWriter(engine, signer, audit_config)
    with pytest.raises(AuditUnavailableError):
        await writer.append(started(1))
    await writer.start()
    await writer.stop()
    with pytest.raises(AuditUnavailableError) as refused:
        await writer.append(started(2))
    assert (refused.value.status_code, refused.value.code) == (503, "audit_unavailable")


async def test_a_failed_batch_keeps_nothing_and_answers_503(
    engine: Engine,
    signer: ChainSigner,
    audit_config: AuditConfig,
    public_keys: dict[str, Ed25519PublicKey],
) -> None:
    """The batch's rows are inserted, then its checkpoint fails: the whole batch rolls back."""
    writer = AuditWriter(engine, signer, audit_config)
    await writer.start()
    with failing_checkpoints(engine):
        outcomes = await asyncio.gather(
            *(writer.append(started(n)) for n in range(30)), return_exceptions=True
        )
    assert all(isinstance(outcome, AuditUnavailableError) for outcome in outcomes)
    assert count_rows(engine, EVENT_TABLE.c.kind == "started") == 0
    assert not writer.healthy

    receipts = await asyncio.gather(*(writer.append(started(n)) for n in range(30, 60)))
    assert writer.healthy
    assert sorted(receipt.seq for receipt in receipts) == list(range(2, 32))
    await writer.stop()
    assert verify_trail(engine, public_keys).ok


async def test_a_locked_audit_table_refuses_then_recovers(
    database_url: str,
    signer: ChainSigner,
    audit_config: AuditConfig,
    public_keys: dict[str, Ed25519PublicKey],
) -> None:
    impatient = impatient_engine(database_url)
    intruder = create_db_engine(database_url)
    writer = AuditWriter(impatient, signer, audit_config)
    await writer.start()
    await writer.append(started(1))
    try:
        with intruder.connect() as locker:
            hold_write_lock(locker)
            with pytest.raises(AuditUnavailableError):
                await writer.append(started(2))
            locker.rollback()
        receipt = await writer.append(started(3))
        assert receipt.seq == 3
        await writer.stop()
        assert count_rows(impatient, EVENT_TABLE.c.request_id == "req-00002") == 0
        assert verify_trail(impatient, public_keys).ok
    finally:
        impatient.dispose()
        intruder.dispose()


async def test_an_unreachable_database_is_a_start_up_error(
    signer: ChainSigner, audit_config: AuditConfig
) -> None:
    unreachable = create_db_engine("postgresql://postgres@127.0.0.1:1/enclave?connect_timeout=2")
    writer = AuditWriter(unreachable, signer, audit_config)
    with pytest.raises(ConfigurationError, match="cannot open the audit trail"):
        await writer.start()
    with pytest.raises(AuditUnavailableError):
        await writer.append(started(1))


async def test_an_overfull_backlog_is_refused(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig
) -> None:
    config = replace(audit_config, backlog_max=5)
    writer = AuditWriter(engine, signer, config)
    await writer.start()
    with slow_statements(engine, seconds=0.2):
        outcomes = await asyncio.gather(
            *(writer.append(started(n)) for n in range(200)), return_exceptions=True
        )
    await writer.stop()
    assert any(isinstance(outcome, AuditUnavailableError) for outcome in outcomes)


@contextmanager
def failing_checkpoints(engine: Engine) -> Iterator[None]:
    """Every checkpoint insert fails, after the batch's rows went in (same transaction)."""

    def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_CHECKPOINTS"):
            raise RuntimeError("injected checkpoint failure")

    with listening(engine, fail):
        yield


@contextmanager
def slow_statements(engine: Engine, seconds: float) -> Iterator[None]:
    def slow(*_args: Any) -> None:
        time.sleep(seconds)

    with listening(engine, slow):
        yield


@contextmanager
def listening(engine: Engine, listener: Callable[..., None]) -> Iterator[None]:
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def impatient_engine(url: str) -> Engine:
    """An engine that gives up on a locked table after 200 ms instead of 5 s."""
    engine = create_db_engine(url)

    def impatient(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA busy_timeout=200")
        else:
            cursor.execute("SET lock_timeout = '200ms'")
            dbapi_connection.commit()
        cursor.close()

    event.listen(engine, "connect", impatient)
    return engine


def hold_write_lock(connection: Any) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.execute(text("LOCK TABLE audit_events IN EXCLUSIVE MODE"))


async def test_a_malformed_event_fails_its_own_request_only(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig
) -> None:
    writer = AuditWriter(engine, signer, audit_config)
    await writer.start()
    naive = AuditEvent(kind="started", request_id="req-naive", occurred_at=datetime(2025, 1, 1))
    outcomes = await asyncio.gather(
        writer.append(started(1)),
        writer.append(naive),
        writer.append(started(2)),
        return_exceptions=True,
    )
    await writer.stop()
    assert isinstance(outcomes[1], ValueError)
    assert [type(outcome).__name__ for outcome in (outcomes[0], outcomes[2])] == [
        "AuditReceipt"
    ] * 2


async def test_a_quiet_writer_signs_its_head_and_heartbeats_on_time(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig
) -> None:
    config = replace(audit_config, checkpoint_records=1000, checkpoint_seconds=0.2)
    writer = AuditWriter(engine, signer, config)
    await writer.start()
    for number in range(3):
        await writer.append(started(number))
    opened_heartbeat = heartbeat_of(engine, writer.chain_id)
    await asyncio.sleep(0.8)
    with engine.connect() as connection:
        signed = connection.execute(
            select(CHECKPOINT_TABLE.c.seq).where(CHECKPOINT_TABLE.c.chain_id == writer.chain_id)
        ).scalars()
        assert 4 in set(signed)
    assert heartbeat_of(engine, writer.chain_id) > opened_heartbeat
    await writer.stop()


def heartbeat_of(engine: Engine, chain_id: str) -> datetime:
    with engine.connect() as connection:
        statement = select(CHAIN_TABLE.c.heartbeat_at).where(CHAIN_TABLE.c.chain_id == chain_id)
        return connection.execute(statement).scalar_one()  # type: ignore[no-any-return]
