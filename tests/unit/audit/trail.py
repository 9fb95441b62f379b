"""Helpers that fill an audit trail through the real writer and tamper with it directly."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Engine, text

from gateway.audit.anchor import FileAnchor
from gateway.audit.config import AuditConfig
from gateway.audit.events import AuditEvent, AuditReceipt
from gateway.audit.request import RequestAudit
from gateway.audit.signing import ChainSigner
from gateway.audit.verify import VerifyOptions
from gateway.audit.writer import AuditWriter


def request_pair(number: int, tenant: str = "acme") -> list[AuditEvent]:
    """A started and a completed event of one request."""
    audit = RequestAudit(
        request_id=f"req-{number:05d}",
        route="/v1/chat/completions",
        client_address="10.0.0.7",
        tenant=tenant,
        subject="app-1",
        department="finance",
        roles=("app",),
        model="tiny",
    )
    return [
        audit.started(entity_counts={"EMAIL_ADDRESS": 1}, prompt_tokens=12),
        audit.completed(prompt_tokens=12, completion_tokens=30, gateway_us=900, engine_us=40_000),
    ]


async def write_events(
    engine: Engine, signer: ChainSigner, config: AuditConfig, events: Sequence[AuditEvent]
) -> tuple[str, list[AuditReceipt]]:
    """Start a writer, append ``events`` one after another, stop it; its chain and receipts."""
    writer = AuditWriter(engine, signer, config)
    await writer.start()
    try:
        receipts = [await writer.append(event) for event in events]
    finally:
        await writer.stop()
    return writer.chain_id, receipts


def fill_trail(
    engine: Engine, signer: ChainSigner, config: AuditConfig, requests: int
) -> tuple[str, list[AuditReceipt]]:
    events = [event for number in range(requests) for event in request_pair(number)]
    return asyncio.run(write_events(engine, signer, config, events))


def write_old_chain(
    engine: Engine,
    signer: ChainSigner,
    config: AuditConfig,
    events: Sequence[AuditEvent],
    moment: datetime,
) -> str:
    """A chain opened, written and closed at ``moment`` (a writer whose clock is in the past)."""

    async def run() -> str:
        writer = AuditWriter(engine, signer, config, clock=lambda: moment)
        await writer.start()
        for event in events:
            await writer.append(replace(event, occurred_at=moment))
        await writer.stop()
        return writer.chain_id

    return asyncio.run(run())


def execute(engine: Engine, sql: str, **params: object) -> None:
    """Change the database behind the gateway's back, as an intruder would."""
    with engine.begin() as connection:
        connection.execute(text(sql), params)


def anchored(config: AuditConfig, now: datetime | None = None) -> VerifyOptions:
    """``verify`` as the CLI runs it: against the config's anchor, with its unsigned bound."""
    return VerifyOptions(
        anchor=FileAnchor(config.anchor_path),
        unsigned_tail_max=timedelta(seconds=config.unsigned_tail_max_seconds),
        stale_after=timedelta(seconds=config.stale_after_seconds),
        now=now,
    )
