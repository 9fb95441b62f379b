"""The anchor: every signed statement also lands in a file outside the database; writing it
fails closed; records a live writer has not signed yet are bounded; tenants see their share."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, insert, select

from gateway.audit.anchor import FileAnchor
from gateway.audit.canonical import GENESIS_HASH, record_hash
from gateway.audit.chain import CHECKPOINT_TABLE
from gateway.audit.config import AuditConfig
from gateway.audit.errors import AuditUnavailableError
from gateway.audit.events import AuditEvent
from gateway.audit.incremental import IncrementalVerifier
from gateway.audit.purge import apply_purge, plan_purge
from gateway.audit.rows import EVENT_TABLE
from gateway.audit.signing import ChainSigner
from gateway.audit.verify import verify_trail
from gateway.audit.writer import AuditWriter
from gateway.identity.clock import utc_now
from tests.unit.audit.tamper import edit, row_at
from tests.unit.audit.trail import anchored, fill_trail, request_pair, write_old_chain

Keys = dict[str, Ed25519PublicKey]


def stored_signatures(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        statement = select(CHECKPOINT_TABLE.c.signature).order_by(CHECKPOINT_TABLE.c.id)
        return list(connection.execute(statement).scalars())


def anchored_statements(config: AuditConfig) -> list[dict[str, object]]:
    lines = config.anchor_path.read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_every_statement_is_in_the_anchor_in_order_and_linked(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    fill_trail(engine, signer, audit_config, requests=12)
    statements = anchored_statements(audit_config)
    assert [s["signature"] for s in statements] == stored_signatures(engine)
    assert [s["statement"] for s in statements] == ["open", "checkpoint", "checkpoint", "close"]
    assert statements[0]["previous"] == ""
    assert all(later["previous"] != "" for later in statements[1:])
    assert verify_trail(engine, public_keys, anchored(audit_config)).ok


def test_an_unwritable_anchor_refuses_records_then_recovers_without_losing_any(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    anchor = audit_config.anchor_path
    aside = anchor.with_name("aside.jsonl")

    async def run() -> tuple[int, int]:
        writer = AuditWriter(engine, signer, audit_config)
        await writer.start()
        events = [event for number in range(20) for event in request_pair(number)]
        accepted = refused = 0
        for index, event in enumerate(events):
            if index == 4:  # the anchor becomes a folder: every write to it fails
                anchor.rename(aside)
                anchor.mkdir()
            if index == 20:
                anchor.rmdir()
                aside.rename(anchor)
            try:
                await writer.append(event)
                accepted += 1
            except AuditUnavailableError:
                refused += 1
        await writer.stop()
        return accepted, refused

    accepted, refused = asyncio.run(run())
    assert refused > 0  # from the first checkpoint that could not be anchored ...
    assert accepted >= 24  # ... until the anchor came back
    report = verify_trail(engine, public_keys, anchored(audit_config))
    assert report.ok, report
    assert [s["signature"] for s in anchored_statements(audit_config)] == stored_signatures(engine)


def test_a_writer_cannot_start_without_its_anchor(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    config = replace(audit_config, anchor_file=blocked / "anchor.jsonl")
    writer = AuditWriter(engine, signer, config)
    with pytest.raises(Exception, match="cannot open the audit trail"):
        asyncio.run(writer.start())


def test_a_live_writers_unsigned_records_pass_until_the_bound(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    config = replace(audit_config, checkpoint_records=1000, checkpoint_seconds=3600)

    async def run() -> None:
        writer = AuditWriter(engine, signer, config)
        await writer.start()
        for event in request_pair(1):
            await writer.append(event)
        now = utc_now()
        fresh = verify_trail(engine, public_keys, anchored(config, now))
        (chain,) = fresh.chains
        assert fresh.ok, fresh
        assert chain.unsigned == 2
        late = now + timedelta(seconds=config.unsigned_tail_max_seconds + 5)
        stale = verify_trail(engine, public_keys, anchored(config, late))
        (chain,) = stale.chains
        assert chain.problem is not None
        assert chain.problem.kind == "unsigned"
        assert "records seq 2-3" in chain.problem.message
        await writer.stop()

    asyncio.run(run())
    assert verify_trail(engine, public_keys, anchored(config)).ok


def test_verify_reads_an_anchor_with_a_torn_last_line(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    fill_trail(engine, signer, audit_config, requests=2)
    with audit_config.anchor_path.open("a") as handle:
        handle.write('{"chain_id": "half a li')  # a crash in the middle of a write
    assert verify_trail(engine, public_keys, anchored(audit_config)).ok
    assert FileAnchor(audit_config.anchor_path).read().damaged_lines == []


def verifier(
    engine: Engine, config: AuditConfig, keys: Keys, clock: list[float]
) -> IncrementalVerifier:
    start = utc_now()
    return IncrementalVerifier(
        engine, config, lambda: keys, clock=lambda: start + timedelta(seconds=clock[0])
    )


def test_incremental_verification_is_scoped_to_the_tenant_and_throttled(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    events = [*request_pair(1, tenant="acme"), *request_pair(2, tenant="globex")]
    events += request_pair(3, tenant="acme")
    asyncio.run(write_events_and_stop(engine, signer, audit_config, events))
    seconds = [0.0]
    incremental = verifier(engine, audit_config, public_keys, seconds)
    acme = incremental.verify("acme")
    assert (acme.ok, acme.records, acme.problem) == (True, 4, None)
    assert incremental.verify("globex").records == 2
    assert incremental.verify("initech").records == 0

    asyncio.run(write_events_and_stop(engine, signer, audit_config, request_pair(4)))
    assert incremental.verify("acme").records == 4  # within the interval: the cached result
    seconds[0] = audit_config.verify_interval_seconds
    assert incremental.verify("acme").records == 6  # the next run saw only what was new


def test_incremental_verification_catches_a_forged_chain(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    chain, _ = fill_trail(engine, signer, audit_config, requests=2)
    seconds = [0.0]
    incremental = verifier(engine, audit_config, public_keys, seconds)
    assert incremental.verify("acme").ok
    template = row_at(engine, chain, 2)
    previous = GENESIS_HASH
    for seq in (1, 2):
        row = {**template, "chain_id": "mallory:1:0", "seq": seq, "prev_hash": previous}
        row.pop("id")
        row["hash"] = previous = record_hash(row)
        with engine.begin() as connection:
            connection.execute(insert(EVENT_TABLE).values(row))
    seconds[0] = audit_config.verify_interval_seconds + audit_config.unsigned_tail_max_seconds
    acme = incremental.verify("acme")
    assert not acme.ok
    assert acme.row_id is not None  # the forged rows carry acme's name: acme is shown one


def test_incremental_verification_catches_changes_to_new_records(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    chain, _ = fill_trail(engine, signer, audit_config, requests=3)
    seconds = [0.0]
    incremental = verifier(engine, audit_config, public_keys, seconds)
    assert incremental.verify("acme").ok
    later, _ = fill_trail(engine, signer, audit_config, requests=3)
    row_id = edit(engine, later, 4, tenant="globex")
    seconds[0] = audit_config.verify_interval_seconds
    globex = incremental.verify("globex")
    assert not globex.ok
    assert globex.row_id == row_id  # the altered row now names globex: shown to globex
    acme = incremental.verify("acme")
    assert not acme.ok
    assert acme.row_id is None  # not acme's row: its id stays hidden
    assert acme.problem is not None
    assert chain not in acme.problem
    assert later not in acme.problem


async def write_events_and_stop(
    engine: Engine, signer: ChainSigner, config: AuditConfig, events: list[AuditEvent]
) -> None:
    writer = AuditWriter(engine, signer, config)
    await writer.start()
    for event in events:
        await writer.append(event)
    await writer.stop()


def test_replicas_anchor_in_files_of_their_own_and_verify_reads_them_all(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    folder = audit_config.anchor_path.parent / "shared"
    first = replace(audit_config, anchor_file=folder / "anchor-pod-a.jsonl")
    second = replace(audit_config, anchor_file=folder / "anchor-pod-b.jsonl")
    fill_trail(engine, signer, first, requests=3)
    other, _ = fill_trail(engine, signer, second, requests=3)
    assert verify_trail(engine, public_keys, anchored(first)).ok
    (folder / "anchor-pod-b.jsonl").unlink()  # a replica's statements lost
    report = verify_trail(engine, public_keys, anchored(first))
    (lost,) = [chain for chain in report.chains if chain.problem is not None]
    assert lost.chain_id == other
    assert lost.problem is not None
    assert lost.problem.kind == "forged"


def test_incremental_verification_carries_on_across_a_purge(
    engine: Engine, signer: ChainSigner, audit_config: AuditConfig, public_keys: Keys
) -> None:
    old = write_old_chain(
        engine, signer, audit_config, request_pair(1), utc_now() - timedelta(days=400)
    )
    seconds = [0.0]
    incremental = verifier(engine, audit_config, public_keys, seconds)
    assert incremental.verify("acme").records == 2
    plan_and_purge(engine, signer, audit_config)
    fill_trail(engine, signer, audit_config, requests=2)
    seconds[0] = audit_config.verify_interval_seconds
    result = incremental.verify("acme")
    assert result.ok, result
    assert verify_trail(engine, public_keys, anchored(audit_config)).ok
    assert old not in (result.problem or "")


def plan_and_purge(engine: Engine, signer: ChainSigner, config: AuditConfig) -> None:
    now = utc_now()
    with engine.connect() as connection:
        plan = plan_purge(connection, now - timedelta(days=100), lambda _d: timedelta(days=1), now)
    assert plan.records > 0
    apply_purge(engine, signer, plan, config=config, clock=utc_now)
