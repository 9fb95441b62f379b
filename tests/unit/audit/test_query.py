"""Searching the trail: every filter, newest first, pages, one record, a request's records."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gateway.audit.config import AuditConfig
from gateway.audit.events import AuditEvent
from gateway.audit.query import (
    AuditFilters,
    count_events,
    get_event,
    iter_events,
    request_events,
    search_events,
)
from gateway.audit.request import RequestAudit
from gateway.audit.signing import ChainSigner
from gateway.errors import InvalidRequestError, NotFoundError
from gateway.identity.clock import utc_now
from tests.unit.audit.trail import write_events

START = utc_now() - timedelta(hours=1)


def request(number: int, tenant: str, department: str) -> RequestAudit:
    return RequestAudit(
        request_id=f"req-{number}",
        route="/v1/chat/completions",
        client_address="10.0.0.7",
        tenant=tenant,
        subject=f"user-{number % 2}",
        department=department,
        roles=("app",),
        model="tiny",
    )


@pytest.fixture
def trail(engine: Engine, signer: ChainSigner, audit_config: AuditConfig) -> None:
    events: list[AuditEvent] = []
    for number in range(6):
        tenant, department = ("acme", "finance") if number < 4 else ("beta", "hr")
        entities = {"EMAIL_ADDRESS": 1} if number % 2 else {"PHONE_NUMBER": 2}
        audit = request(number, tenant, department)
        moment = START + timedelta(minutes=number)
        if number == 5:
            events.append(replace_time(audit.refused(status=429, reasons=("rate_limit",)), moment))
            continue
        events.append(replace_time(audit.started(entity_counts=entities), moment))
        events.append(replace_time(audit.completed(status=200, entity_counts=entities), moment))
    asyncio.run(write_events(engine, signer, audit_config, events))


def replace_time(event: AuditEvent, moment: datetime) -> AuditEvent:
    return replace(event, occurred_at=moment)


def ids(session: Session, **filters: object) -> list[str | None]:
    page = search_events(session, AuditFilters(**filters), limit=100)  # type: ignore[arg-type]
    return [record.request_id for record in page.records]


@pytest.mark.usefixtures("trail")
def test_each_filter_narrows_the_search(session: Session) -> None:
    assert set(ids(session, tenant="beta")) == {"req-4", "req-5"}
    assert set(ids(session, department="finance")) == {"req-0", "req-1", "req-2", "req-3"}
    assert set(ids(session, subject="user-1", kinds=("completed",))) == {"req-1", "req-3"}
    assert ids(session, decision="refused") == ["req-5"]
    assert ids(session, status=429) == ["req-5"]
    assert set(ids(session, entity_type="EMAIL_ADDRESS", kinds=("started",))) == {"req-1", "req-3"}
    assert ids(session, entity_type="EMAIL%") == []
    assert ids(session, entity_type="EMAILXADDRESS") == []
    window = {"since": START + timedelta(minutes=2), "until": START + timedelta(minutes=4)}
    assert set(ids(session, **window)) == {"req-2", "req-3"}
    assert ids(session, request_id="req-0") == ["req-0", "req-0"]


@pytest.mark.usefixtures("trail")
def test_results_come_newest_first_in_pages(session: Session) -> None:
    everything = search_events(session, AuditFilters(), limit=500).records
    assert [r.id for r in everything] == sorted((r.id for r in everything), reverse=True)
    first = search_events(session, AuditFilters(), limit=4)
    second = search_events(session, AuditFilters(), limit=4, cursor=first.next_cursor)
    assert [r.id for r in first.records + second.records] == [r.id for r in everything[:8]]
    with pytest.raises(InvalidRequestError):
        search_events(session, AuditFilters(), limit=0)


@pytest.mark.usefixtures("trail")
def test_one_record_and_its_request(session: Session) -> None:
    started = search_events(session, AuditFilters(request_id="req-1", kinds=("started",))).records[
        0
    ]
    record = get_event(session, started.id)
    assert (record.tenant, record.roles, record.entity_counts) == (
        "acme",
        ("app",),
        {"EMAIL_ADDRESS": 1},
    )
    assert [r.kind for r in request_events(session, "req-1")] == ["started", "completed"]
    with pytest.raises(NotFoundError):
        get_event(session, 10**9)


@pytest.mark.usefixtures("trail")
def test_export_streams_every_matching_record_oldest_first(session: Session) -> None:
    filters = AuditFilters(tenant="acme")
    streamed = list(iter_events(session, filters))
    assert len(streamed) == count_events(session, filters) == 8
    assert [r.id for r in streamed] == sorted(r.id for r in streamed)
