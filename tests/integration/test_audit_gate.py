"""Every request leaves a record: allowed, refused and failed alike; the chain verifies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit.keys import trusted_public_keys
from gateway.audit.setup import AuditTrail
from gateway.audit.verify import verify_trail
from tests.support.echo_engine import ECHO_MODEL, EchoEngine
from tests.support.identity import TokenFactory

pytestmark = pytest.mark.anyio

Client = AsyncTestClient  # type: ignore[type-arg]


def events(sessions: sessionmaker[Session], request_id: str) -> list[dict[str, Any]]:
    query = text(
        "SELECT kind, status, decision, reasons, entity_counts, content_level, content, tenant,"
        " prompt_tokens, completion_tokens FROM audit_events WHERE request_id = :id ORDER BY id"
    )
    with sessions() as session:
        return [dict(row._mapping) for row in session.execute(query, {"id": request_id})]


def chat(content: str, **extra: object) -> dict[str, object]:
    return {"model": ECHO_MODEL, "messages": [{"role": "user", "content": content}], **extra}


async def call(client: Client, tokens: TokenFactory, department: str, body: dict[str, object]):  # type: ignore[no-untyped-def]
    tenant = f"{department}-app"
    tokens.add_tenant(tenant, department)
    token, _ = tokens.issue(tenant, ("app",))
    return await client.post(
        "/v1/chat/completions", json=body, headers={"authorization": f"Bearer {token}"}
    )


async def test_allowed_request_has_started_and_completed_with_redacted_content(
    anonymous_client: Client, tokens: TokenFactory, sqlite_sessions: sessionmaker[Session]
) -> None:
    response = await call(anonymous_client, tokens, "support", chat("mail jane@example.com now"))
    assert response.status_code == 200
    records = events(sqlite_sessions, response.headers["x-request-id"])
    assert [record["kind"] for record in records] == ["started", "completed"]
    assert records[1]["completion_tokens"] == response.json()["usage"]["completion_tokens"]
    assert json.loads(records[0]["entity_counts"]) == {"EMAIL_ADDRESS": 1}
    dump = json.dumps(records)
    assert "jane@example.com" not in dump, "no raw PII in audit rows"


async def test_full_content_is_stored_encrypted(
    anonymous_client: Client, tokens: TokenFactory, sqlite_sessions: sessionmaker[Session]
) -> None:
    response = await call(anonymous_client, tokens, "engineering", chat("hello plaintext-marker"))
    records = events(sqlite_sessions, response.headers["x-request-id"])
    levels = {record["content_level"] for record in records}
    assert levels <= {"redacted", "full", "none"}
    assert "plaintext-marker" not in json.dumps(records) or levels == {"redacted"}


@pytest.mark.parametrize(
    ("department", "body", "status", "reason"),
    [
        ("finance", chat("hi"), 403, "model_not_allowed"),
        ("support", chat("hi", n=3), 400, "policy_violation"),
        ("hr", chat("resident id 11010519491231002X"), 400, "pii_blocked"),
    ],
)
async def test_refusals_are_recorded_with_their_reason(
    anonymous_client: Client,
    tokens: TokenFactory,
    sqlite_sessions: sessionmaker[Session],
    echo_engine: EchoEngine,
    department: str,
    body: dict[str, object],
    status: int,
    reason: str,
) -> None:
    response = await call(anonymous_client, tokens, department, body)
    assert response.status_code == status
    (record,) = events(sqlite_sessions, response.headers["x-request-id"])
    assert record["kind"] == "refused"
    assert record["status"] == status
    assert reason in json.loads(record["reasons"])
    assert "11010519491231002X" not in json.dumps(record)
    assert echo_engine.started == []


async def test_unauthenticated_calls_are_recorded(
    anonymous_client: Client, sqlite_sessions: sessionmaker[Session]
) -> None:
    response = await anonymous_client.post("/v1/chat/completions", json=chat("hi"))
    assert response.status_code == 401
    (record,) = events(sqlite_sessions, response.headers["x-request-id"])
    assert (record["kind"], record["tenant"]) == ("refused", None)


async def test_engine_failure_is_recorded_as_failed(
    anonymous_client: Client,
    tokens: TokenFactory,
    sqlite_sessions: sessionmaker[Session],
    echo_engine: EchoEngine,
) -> None:
    echo_engine.fail_after_tokens = 1
    response = await call(anonymous_client, tokens, "support", chat("a b c", stream=True))
    assert '"error"' in response.text
    kinds = [record["kind"] for record in events(sqlite_sessions, response.headers["x-request-id"])]
    assert kinds == ["started", "failed"]


async def test_no_inference_without_a_durable_started_record(
    anonymous_client: Client, tokens: TokenFactory, audit_trail: AuditTrail, echo_engine: EchoEngine
) -> None:
    await audit_trail.writer.stop()
    response = await call(anonymous_client, tokens, "support", chat("hello"))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "audit_unavailable"
    assert echo_engine.started == []


async def test_the_chain_verifies_after_traffic(
    anonymous_client: Client,
    tokens: TokenFactory,
    audit_trail: AuditTrail,
    sqlite_sessions: sessionmaker[Session],
) -> None:
    for content in ("one", "two three", "four"):
        await call(anonymous_client, tokens, "support", chat(content))
    report = verify_trail(
        sqlite_sessions.kw["bind"], trusted_public_keys(audit_trail.config.signing_key_file)
    )
    assert report.ok
    assert report.records >= 6
