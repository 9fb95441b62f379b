"""Issued-token records on SQLite and PostgreSQL: record, list, revoke, hot-path state."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from gateway.errors import ConflictError, InvalidRequestError, NotFoundError
from gateway.identity.tenants import TenantStatus, create_tenant
from gateway.identity.tokens import (
    TokenLifecycle,
    count_live_tokens,
    find_token_state,
    list_tokens,
    record_token,
    revoke_token,
)

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR = timedelta(hours=1)


@pytest.fixture
def acme(session: Session) -> str:
    create_tenant(session, "acme", "finance")
    create_tenant(session, "beta", "hr")
    session.commit()
    return "acme"


def _record(session: Session, token_id: str, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "jti": token_id,
        "subject": "billing-service",
        "tenant_name": "acme",
        "roles": ["compliance", "app"],
        "kid": "key-1",
        "issued_at": NOW,
        "expires_at": NOW + HOUR,
    }
    return record_token(session, **{**fields, **changes})


@contextmanager
def _counted_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_record_returns_what_was_stored(session: Session, acme: str) -> None:
    token = _record(session, "t1")
    session.commit()
    assert token.tenant == "acme"
    assert token.roles == ("app", "compliance")  # sorted, stored space-separated
    assert (token.issued_at, token.expires_at, token.revoked_at) == (NOW, NOW + HOUR, None)
    assert list_tokens(session, now=NOW) == (token,)
    assert token.lifecycle(NOW) is TokenLifecycle.ACTIVE


def test_duplicate_jti_is_a_conflict(session: Session, acme: str) -> None:
    _record(session, "t1")
    with pytest.raises(ConflictError):
        _record(session, "t1", tenant_name="beta")


def test_unknown_tenant_is_a_404(session: Session, acme: str) -> None:
    with pytest.raises(NotFoundError, match="ghost"):
        _record(session, "t1", tenant_name="ghost")


@pytest.mark.parametrize(
    "changes",
    [
        {"roles": []},
        {"roles": ["root"]},
        {"roles": ["app", "superuser"]},
        {"subject": ""},
        {"subject": "has space"},
        {"jti": ""},
        {"jti": "x" * 65},
        {"expires_at": NOW},
        {"expires_at": NOW - HOUR},
    ],
)
def test_bad_input_is_a_400(session: Session, acme: str, changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        _record(session, "t1", **changes)
    assert caught.value.status_code == 400


def test_naive_times_are_a_programming_error(session: Session, acme: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _record(session, "t1", issued_at=datetime(2030, 1, 1))


def test_list_hides_expired_unless_asked_and_filters_by_tenant(session: Session, acme: str) -> None:
    _record(session, "old", issued_at=NOW - 3 * HOUR, expires_at=NOW - HOUR)
    _record(session, "live", issued_at=NOW - HOUR)
    _record(session, "other", tenant_name="beta")
    session.commit()
    assert [t.jti for t in list_tokens(session, now=NOW)] == ["live", "other"]
    assert [t.jti for t in list_tokens(session, "acme", now=NOW)] == ["live"]
    everything = list_tokens(session, "acme", include_expired=True, now=NOW)
    assert [t.jti for t in everything] == ["old", "live"]
    assert everything[0].lifecycle(NOW) is TokenLifecycle.EXPIRED


def test_list_for_an_unknown_tenant_is_a_404(session: Session, acme: str) -> None:
    with pytest.raises(NotFoundError):
        list_tokens(session, "ghost")


def test_revoke_is_idempotent_and_keeps_the_first_time(session: Session, acme: str) -> None:
    _record(session, "t1")
    first = revoke_token(session, "t1", now=NOW + timedelta(minutes=5))
    session.commit()
    second = revoke_token(session, "t1", now=NOW + timedelta(minutes=9))
    session.commit()
    assert first.revoked_at == second.revoked_at == NOW + timedelta(minutes=5)
    assert second.lifecycle(NOW + timedelta(minutes=10)) is TokenLifecycle.REVOKED
    assert [t.jti for t in list_tokens(session, now=NOW)] == ["t1"]  # revoked, not expired


def test_revoking_an_unknown_token_is_a_404(session: Session, acme: str) -> None:
    with pytest.raises(NotFoundError) as caught:
        revoke_token(session, "ghost")
    assert caught.value.code == "token_not_found"


def test_count_live_tokens(session: Session, acme: str) -> None:
    _record(session, "live")
    _record(session, "revoked")
    _record(session, "expired", issued_at=NOW - 2 * HOUR, expires_at=NOW - HOUR)
    revoke_token(session, "revoked", now=NOW)
    assert count_live_tokens(session, "acme", now=NOW) == 1


def test_token_state_carries_revocation_expiry_and_tenant_status(
    session: Session, acme: str
) -> None:
    _record(session, "t1")
    session.commit()
    state = find_token_state(session, "t1")
    assert state is not None
    assert (state.jti, state.tenant, state.tenant_status) == ("t1", "acme", TenantStatus.ACTIVE)
    assert (state.revoked_at, state.expires_at) == (None, NOW + HOUR)
    assert state.is_usable(NOW)
    assert not state.is_usable(NOW + HOUR)
    revoke_token(session, "t1", now=NOW)
    revoked = find_token_state(session, "t1")
    assert revoked is not None
    assert revoked.revoked_at == NOW
    assert not revoked.is_usable(NOW)


def test_token_state_of_an_unknown_jti_is_none(session: Session, acme: str) -> None:
    assert find_token_state(session, "never-issued") is None


def test_token_state_is_one_query(engine: Engine, session: Session, acme: str) -> None:
    _record(session, "t1")
    session.commit()
    with _counted_statements(engine) as statements:
        assert find_token_state(session, "t1") is not None
    assert len(statements) == 1
    assert "JOIN" in statements[0].upper()
