"""Crashes leave "incomplete" records, never silence; live writers' requests are left alone."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, select

from gateway.audit.appender import ChainAppender
from gateway.audit.chain import CHAIN_TABLE, CHECKPOINT_TABLE, ChainIdentity
from gateway.audit.config import AuditConfig
from gateway.audit.events import AuditEvent
from gateway.audit.rows import EVENT_TABLE
from gateway.audit.signing import ChainSigner
from gateway.audit.verify import verify_trail
from gateway.audit.writer import AuditWriter
from gateway.identity.clock import utc_now
from tests.unit.audit.tamper import edit
from tests.unit.audit.trail import anchored, execute

pytestmark = pytest.mark.anyio

REPO = Path(__file__).resolve().parents[3]
CRASHING_WRITER = Path(__file__).with_name("crashing_writer.py")


def records_of(engine: Engine, request_id: str) -> list[Any]:
    with engine.connect() as connection:
        statement = select(EVENT_TABLE).where(EVENT_TABLE.c.request_id == request_id)
        return list(connection.execute(statement.order_by(EVENT_TABLE.c.id)))


def settled_at(engine: Engine, chain_id: str) -> Any:
    with engine.connect() as connection:
        statement = select(CHAIN_TABLE.c.settled_at).where(CHAIN_TABLE.c.chain_id == chain_id)
        return connection.execute(statement).scalar_one()


def run_and_kill_a_writer(database_url: str, key_file: Path) -> str:
    """Start a writer process, wait until its "started" record is durable, SIGKILL it."""
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, str(CRASHING_WRITER), database_url, str(key_file)],
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        assert process.stdout is not None
        line = next((line for line in process.stdout if line.startswith("durable ")), "")
    finally:
        process.kill()
        process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()
    assert line.startswith("durable "), "the writer process died before its record was durable"
    return line.split()[1]


async def test_a_killed_gateway_leaves_incomplete_records_after_restart(
    database_url: str,
    engine: Engine,
    signer: ChainSigner,
    audit_config: AuditConfig,
    public_keys: dict[str, Ed25519PublicKey],
) -> None:
    crashed = run_and_kill_a_writer(database_url, audit_config.signing_key_file)
    assert [row.kind for row in records_of(engine, "req-crash")] == ["started"]

    restarted = AuditWriter(engine, signer, audit_config)
    await restarted.start()
    await restarted.stop()

    started, incomplete = records_of(engine, "req-crash")
    assert (incomplete.kind, incomplete.chain_id, incomplete.tenant) == (
        "incomplete",
        restarted.chain_id,
        "acme",
    )
    assert incomplete.reasons == '["writer_died"]'
    assert f'"started_chain_id":"{crashed}"' in incomplete.detail
    assert f'"started_event_id":{started.id}' in incomplete.detail
    assert settled_at(engine, crashed) is not None
    assert verify_trail(engine, public_keys).ok

    again = AuditWriter(engine, signer, audit_config)
    await again.start()
    await again.stop()
    assert len(records_of(engine, "req-crash")) == 2, "a dead chain is settled once"


async def test_a_live_writers_requests_are_not_marked(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig
) -> None:
    live = AuditWriter(engine, signer, audit_config)
    await live.start()
    await live.append(AuditEvent(kind="started", request_id="req-live"))
    neighbour = AuditWriter(engine, signer, audit_config)
    await neighbour.start()
    await neighbour.stop()
    assert [row.kind for row in records_of(engine, "req-live")] == ["started"]
    await live.append(AuditEvent(kind="completed", request_id="req-live", status=200))
    await live.stop()
    assert [row.kind for row in records_of(engine, "req-live")] == ["started", "completed"]


@pytest.mark.parametrize(
    ("silent_for", "marked"), [(timedelta(minutes=10), True), (timedelta(0), False)]
)
async def test_a_chain_on_another_host_is_dead_once_its_heartbeat_is_stale(
    engine: Engine,
    signer: ChainSigner,
    audit_config: AuditConfig,
    silent_for: timedelta,
    marked: bool,
) -> None:
    elsewhere = ChainAppender(engine, signer, audit_config, utc_now)
    elsewhere.identity = ChainIdentity(chain_id="replica-b:7:0f0f0f0f", host="replica-b", pid=7)
    elsewhere.open()
    elsewhere.append([AuditEvent(kind="started", request_id="req-remote")])
    execute(
        engine,
        "UPDATE audit_chains SET heartbeat_at = :moment WHERE chain_id = 'replica-b:7:0f0f0f0f'",
        moment=utc_now() - silent_for,
    )
    local = AuditWriter(engine, signer, audit_config)
    await local.start()
    await local.stop()
    kinds = [row.kind for row in records_of(engine, "req-remote")]
    assert kinds == (["started", "incomplete"] if marked else ["started"])


def statements_of(engine: Engine, chain_id: str) -> list[str]:
    with engine.connect() as connection:
        statement = (
            select(CHECKPOINT_TABLE.c.statement)
            .where(CHECKPOINT_TABLE.c.chain_id == chain_id)
            .order_by(CHECKPOINT_TABLE.c.id)
        )
        return list(connection.execute(statement).scalars())


async def test_the_restart_signs_the_dead_chains_tail_so_the_trail_verifies_with_its_anchor(
    database_url: str,
    engine: Engine,
    signer: ChainSigner,
    audit_config: AuditConfig,
    public_keys: dict[str, Ed25519PublicKey],
) -> None:
    crashed = run_and_kill_a_writer(database_url, audit_config.signing_key_file)
    assert statements_of(engine, crashed) == ["open"]  # its "started" record is unsigned
    killed_state = verify_trail(engine, public_keys, anchored(audit_config))
    assert not killed_state.ok  # the dead writer's unsigned record is reported ...
    (dead,) = [chain for chain in killed_state.chains if chain.chain_id == crashed]
    assert dead.problem is not None
    assert dead.problem.kind == "unsigned"

    restarted = AuditWriter(engine, signer, audit_config)
    await restarted.start()
    await restarted.stop()
    assert statements_of(engine, crashed) == ["open", "recovered"]
    report = verify_trail(engine, public_keys, anchored(audit_config))
    assert report.ok, report  # ... until the restart vouched for it
    assert all(chain.closed for chain in report.chains)


async def test_a_dead_chains_tampered_tail_is_not_signed_at_recovery(
    database_url: str,
    engine: Engine,
    signer: ChainSigner,
    audit_config: AuditConfig,
    public_keys: dict[str, Ed25519PublicKey],
) -> None:
    crashed = run_and_kill_a_writer(database_url, audit_config.signing_key_file)
    row_id = edit(engine, crashed, 2, tenant="mallory")

    restarted = AuditWriter(engine, signer, audit_config)
    await restarted.start()
    await restarted.stop()
    assert statements_of(engine, crashed) == ["open"]
    report = verify_trail(engine, public_keys, anchored(audit_config))
    (dead,) = [chain for chain in report.chains if chain.chain_id == crashed]
    assert dead.problem is not None
    assert (dead.problem.kind, dead.problem.row_id) == ("altered", row_id)
