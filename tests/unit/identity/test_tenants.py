"""Tenants on SQLite and PostgreSQL: names, duplicates, suspend/resume, delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from gateway.errors import ConflictError, InvalidRequestError, NotFoundError
from gateway.identity.tenants import (
    TenantStatus,
    create_tenant,
    delete_tenant,
    find_tenant,
    get_tenant,
    list_tenants,
    set_tenant_status,
)
from gateway.identity.tokens import find_token_state, record_token

NOW = datetime.now(UTC).replace(microsecond=0)


def _record(session: Session, jti: str, tenant: str = "acme") -> None:
    record_token(
        session,
        jti=jti,
        subject="svc",
        tenant_name=tenant,
        roles=["app"],
        kid="k1",
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=1),
    )


def test_create_then_find_list_and_get(session: Session) -> None:
    created = create_tenant(session, "acme", "finance")
    create_tenant(session, "beta-2", "hr")
    session.commit()
    assert created.status is TenantStatus.ACTIVE
    assert created.is_active
    assert created.created_at.tzinfo is not None
    assert find_tenant(session, "acme") == created
    assert get_tenant(session, "acme") == created
    assert [tenant.name for tenant in list_tenants(session)] == ["acme", "beta-2"]


def test_duplicate_name_is_a_409_conflict(session: Session) -> None:
    create_tenant(session, "acme", "finance")
    with pytest.raises(ConflictError) as caught:
        create_tenant(session, "acme", "hr")
    assert caught.value.status_code == 409
    assert caught.value.code == "tenant_exists"


@pytest.mark.parametrize(
    "name",
    ["", "Acme", "-acme", "acme_corp", "acme corp", "a" * 64, "acmé", "acme\n"],
)
def test_bad_names_are_refused(session: Session, name: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        create_tenant(session, name, "finance")
    assert caught.value.status_code == 400
    assert caught.value.param == "name"
    assert list_tenants(session) == ()


@pytest.mark.parametrize("name", ["a", "0", "acme-2", "a" * 63, "9-lives-"])
def test_good_names_are_accepted(session: Session, name: str) -> None:
    assert create_tenant(session, name, "finance").name == name


def test_bad_department_is_refused(session: Session) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        create_tenant(session, "acme", "Finance Dept")
    assert caught.value.param == "department"


def test_unknown_tenant_is_a_404(session: Session) -> None:
    assert find_tenant(session, "ghost") is None
    for action in (
        lambda: get_tenant(session, "ghost"),
        lambda: set_tenant_status(session, "ghost", TenantStatus.SUSPENDED),
        lambda: delete_tenant(session, "ghost"),
    ):
        with pytest.raises(NotFoundError) as caught:
            action()
        assert caught.value.status_code == 404
        assert caught.value.code == "tenant_not_found"


def test_suspend_and_resume(session: Session) -> None:
    created = create_tenant(session, "acme", "finance")
    suspended = set_tenant_status(session, "acme", TenantStatus.SUSPENDED)
    assert suspended.status is TenantStatus.SUSPENDED
    assert not suspended.is_active
    assert suspended.updated_at >= created.updated_at
    again = set_tenant_status(session, "acme", "suspended")
    assert again.updated_at == suspended.updated_at  # no change, no new timestamp
    assert set_tenant_status(session, "acme", "active").is_active


def test_unknown_status_is_refused(session: Session) -> None:
    create_tenant(session, "acme", "finance")
    with pytest.raises(InvalidRequestError):
        set_tenant_status(session, "acme", "deleted")


def test_suspension_shows_in_token_state(session: Session) -> None:
    create_tenant(session, "acme", "finance")
    _record(session, "t1")
    set_tenant_status(session, "acme", TenantStatus.SUSPENDED)
    state = find_token_state(session, "t1")
    assert state is not None
    assert state.tenant_status is TenantStatus.SUSPENDED
    assert not state.is_usable(NOW)


def test_delete_removes_the_tenant_and_its_tokens(session: Session) -> None:
    create_tenant(session, "acme", "finance")
    create_tenant(session, "other", "hr")
    _record(session, "t1")
    _record(session, "t2")
    _record(session, "t3", tenant="other")
    session.commit()
    deleted = delete_tenant(session, "acme")
    session.commit()
    assert deleted.tenant.name == "acme"
    assert deleted.tokens_removed == 2
    assert find_tenant(session, "acme") is None
    assert find_token_state(session, "t1") is None
    assert find_token_state(session, "t3") is not None


def test_recreated_tenant_does_not_revive_old_tokens(session: Session) -> None:
    create_tenant(session, "acme", "finance")
    _record(session, "t1")
    delete_tenant(session, "acme")
    create_tenant(session, "acme", "finance")
    session.commit()
    assert find_token_state(session, "t1") is None
