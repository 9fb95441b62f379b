"""Purging old records: only a chain's oldest prefix, only past retention, signed tombstones."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, func, select

from gateway.audit.config import AuditConfig
from gateway.audit.events import AuditEvent
from gateway.audit.purge import PurgePlan, RetentionFor, apply_purge, plan_purge
from gateway.audit.request import RequestAudit
from gateway.audit.rows import EVENT_TABLE
from gateway.audit.signing import ChainSigner
from gateway.audit.verify import TrailReport, verify_trail
from gateway.audit.walk import ChainReport
from gateway.audit.writer import AuditWriter
from gateway.identity.clock import utc_now
from tests.unit.audit.trail import anchored, execute, fill_trail
from tests.unit.audit.trail import write_old_chain as write_chain_at

Keys = dict[str, Ed25519PublicKey]
NOW = utc_now()
LONG_AGO = NOW - timedelta(days=400)


def keep_for(days: int) -> RetentionFor:
    return lambda _department: timedelta(days=days)


def legal_keeps_ten_years(department: str | None) -> timedelta:
    return timedelta(days=3650 if department == "legal" else 30)


def old_requests(department: str = "finance", count: int = 5) -> list[AuditEvent]:
    events: list[AuditEvent] = []
    for number in range(count):
        audit = RequestAudit(f"old-{department}-{number}", "/v1/completions", department=department)
        events += [audit.started(), audit.completed()]
    return events


def write_old_chain(
    engine: Engine, signer: ChainSigner, config: AuditConfig, events: list[AuditEvent]
) -> str:
    return write_chain_at(engine, signer, config, events, LONG_AGO)


def purge(
    engine: Engine, signer: ChainSigner, config: AuditConfig, before: datetime, days: int = 30
) -> PurgePlan:
    with engine.connect() as connection:
        plan = plan_purge(connection, before, keep_for(days), utc_now())
    apply_purge(engine, signer, plan, config=config, clock=utc_now)
    return plan


def chain_report(report: TrailReport, chain_id: str) -> ChainReport:
    return next(chain for chain in report.chains if chain.chain_id == chain_id)


def count(engine: Engine, **equal: object) -> int:
    with engine.connect() as connection:
        conditions = [EVENT_TABLE.c[name] == value for name, value in equal.items()]
        statement = select(func.count()).select_from(EVENT_TABLE).where(*conditions)
        return int(connection.execute(statement).scalar_one())


def test_an_old_chain_is_removed_and_the_trail_still_verifies(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    old = write_old_chain(engine, signer, audit_config, old_requests())
    recent, _ = fill_trail(engine, signer, audit_config, requests=3)
    plan = purge(engine, signer, audit_config, before=NOW - timedelta(days=100))
    assert [(c.chain_id, c.from_seq, c.through_seq) for c in plan.chains] == [(old, 1, 11)]

    assert count(engine, chain_id=old) == 0
    assert count(engine, chain_id=recent) == 7
    (tombstone,) = [row for row in _rows(engine) if row.kind == "tombstone"]
    assert f'"chain_id":"{old}"' in tombstone.detail
    assert '"through_seq":11' in tombstone.detail
    report = verify_trail(engine, public_keys, anchored(audit_config))
    assert report.ok, report
    purged = chain_report(report, old)
    assert (purged.records, purged.purged_through) == (0, 11)


def test_a_live_chain_keeps_growing_after_its_prefix_is_purged(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    async def run() -> str:
        writer = AuditWriter(engine, signer, audit_config)
        await writer.start()
        for number in range(5):
            await writer.append(AuditEvent(kind="started", request_id=f"r{number}"))
            await writer.append(AuditEvent(kind="completed", request_id=f"r{number}"))
        await asyncio.to_thread(purge, engine, signer, audit_config, utc_now(), 0)
        await writer.append(AuditEvent(kind="started", request_id="after"))
        await writer.append(AuditEvent(kind="completed", request_id="after"))
        await writer.stop()
        return writer.chain_id

    chain_id = asyncio.run(run())
    assert count(engine, chain_id=chain_id) == 2
    report = verify_trail(engine, public_keys, anchored(audit_config))
    assert report.ok, report
    assert chain_report(report, chain_id).purged_through == 11


def test_retention_holds_back_the_rest_of_a_chain(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    events = old_requests("finance", 2) + old_requests("legal", 1) + old_requests("finance", 2)
    chain_id = write_old_chain(engine, signer, audit_config, events)

    with engine.connect() as connection:
        plan = plan_purge(connection, NOW, legal_keeps_ten_years, NOW)
    assert [(c.from_seq, c.through_seq) for c in plan.chains] == [(1, 5)]
    assert plan.kept_by_retention == 1
    apply_purge(engine, signer, plan, config=audit_config, clock=utc_now)
    assert count(engine, chain_id=chain_id, department="legal") == 2
    assert verify_trail(engine, public_keys).ok


def test_a_removed_tombstone_exposes_the_purge(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    events = old_requests("finance", 2) + old_requests("legal", 1)
    chain_id = write_old_chain(engine, signer, audit_config, events)
    with engine.connect() as connection:
        plan = plan_purge(connection, NOW, legal_keeps_ten_years, NOW)
    apply_purge(engine, signer, plan, config=audit_config, clock=utc_now)
    assert count(engine, chain_id=chain_id, department="finance") == 0
    assert verify_trail(engine, public_keys).ok
    execute(engine, "DELETE FROM audit_events WHERE kind = 'tombstone'")
    problem = chain_report(verify_trail(engine, public_keys), chain_id).problem
    assert problem is not None
    assert (problem.kind, problem.seq) == ("deleted", 1)
    assert "records seq 1-5 are missing" in problem.message


def test_an_edited_tombstone_is_not_trusted(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    old = write_old_chain(engine, signer, audit_config, old_requests())
    purge(engine, signer, audit_config, before=NOW - timedelta(days=100))
    execute(
        engine,
        "UPDATE audit_events SET detail = REPLACE(detail, :claimed, :forged) "
        "WHERE kind = 'tombstone'",
        claimed='"through_seq":11',
        forged='"through_seq":12',
    )
    report = verify_trail(engine, public_keys)
    problems = {chain.chain_id: chain.problem for chain in report.chains if chain.problem}
    assert problems[old] is not None
    assert problems[old].kind == "forged"
    tombstone_chain = next(chain for chain in problems if chain.startswith("purge@"))
    assert problems[tombstone_chain].kind == "altered"


def test_nothing_to_purge_changes_nothing(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig
) -> None:
    fill_trail(engine, signer, audit_config, requests=2)
    with engine.connect() as connection:
        plan = plan_purge(connection, NOW - timedelta(days=1), keep_for(0), NOW)
    assert (plan.chains, plan.records) == ((), 0)


def _rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(EVENT_TABLE).order_by(EVENT_TABLE.c.id)))
