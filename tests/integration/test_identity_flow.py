"""The admin flow through the REST API, on SQLite and on PostgreSQL, with the database directory."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import Engine

from gateway.app import create_app
from gateway.auth.db_directory import DatabaseDirectory
from gateway.db.session import create_session_factory
from gateway.identity import issuing, tenants
from gateway.services import Services
from gateway.settings import Settings
from tests.support.echo_engine import ECHO_MODEL

pytestmark = pytest.mark.anyio

Client = AsyncTestClient  # type: ignore[type-arg]
CHAT = {"model": ECHO_MODEL, "messages": [{"role": "user", "content": "hello there"}]}


@pytest.fixture
def identity_settings(tmp_path: Path) -> Settings:
    return Settings(keys_dir=tmp_path / "keys", jwt_issuer="enclave", jwt_audience="enclave-api")


@pytest.fixture
def admin_token(engine: Engine, identity_settings: Settings) -> str:
    """Bootstrap the way an operator does with the CLI: key, ops tenant, admin token."""
    with create_session_factory(engine)() as session, session.begin():
        issuing.rotate_signing_key(session, identity_settings)
        tenants.create_tenant(session, "ops", "engineering")
        issued = issuing.issue_token(
            session, identity_settings, tenant="ops", roles=["admin"], ttl_seconds=3600
        )
    return issued.token


@pytest.fixture
async def api(
    engine: Engine, identity_settings: Settings, services: Services
) -> AsyncIterator[Client]:
    sessions = create_session_factory(engine)
    database_services = dataclasses.replace(
        services, directory=DatabaseDirectory(sessions), sessions=sessions
    )
    app = create_app(identity_settings, database_services)
    async with AsyncTestClient(app=app) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def issue(api: Client, admin_token: str, tenant: str, *roles: str) -> dict[str, Any]:
    body = {"tenant": tenant, "roles": list(roles), "ttl": "30m"}
    response = await api.post("/admin/tokens", json=body, headers=bearer(admin_token))
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


async def test_create_issue_call_revoke_refuse(api: Client, admin_token: str) -> None:
    admin = bearer(admin_token)
    created = await api.post(
        "/admin/tenants", json={"name": "acme", "department": "engineering"}, headers=admin
    )
    assert created.status_code == 201
    assert created.json()["status"] == "active"
    issued = await issue(api, admin_token, "acme", "app")
    assert (
        await api.post("/v1/chat/completions", json=CHAT, headers=bearer(issued["token"]))
    ).status_code == 200
    revoked = await api.post(f"/admin/tokens/{issued['jti']}/revoke", headers=admin)
    assert revoked.json()["revoked_at"] is not None
    refused = await api.post("/v1/chat/completions", json=CHAT, headers=bearer(issued["token"]))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "token_revoked"
    listed = (await api.get("/admin/tokens", params={"tenant": "acme"}, headers=admin)).json()[
        "data"
    ]
    assert [token["jti"] for token in listed] == [issued["jti"]]
    assert "token" not in listed[0], "listings never carry token strings"


async def test_tenant_and_compliance_tokens_never_reach_admin_routes(
    api: Client, admin_token: str
) -> None:
    admin = bearer(admin_token)
    await api.post("/admin/tenants", json={"name": "acme", "department": "hr"}, headers=admin)
    app_token = (await issue(api, admin_token, "acme", "app"))["token"]
    compliance_token = (await issue(api, admin_token, "acme", "compliance"))["token"]
    for token in (app_token, compliance_token):
        assert (await api.get("/admin/tenants", headers=bearer(token))).status_code == 403
        write = await api.post(
            "/admin/tenants", json={"name": "evil", "department": "x"}, headers=bearer(token)
        )
        assert write.status_code == 403
        assert (await api.post("/admin/keys/rotate", headers=bearer(token))).status_code == 403
    inference = await api.post("/v1/chat/completions", json=CHAT, headers=bearer(compliance_token))
    assert inference.status_code == 403
    names = [t["name"] for t in (await api.get("/admin/tenants", headers=admin)).json()["data"]]
    assert "evil" not in names


async def test_suspend_resume_delete(api: Client, admin_token: str) -> None:
    admin = bearer(admin_token)
    await api.post("/admin/tenants", json={"name": "acme", "department": "support"}, headers=admin)
    token = (await issue(api, admin_token, "acme", "app"))["token"]
    await api.post("/admin/tenants/acme/suspend", headers=admin)
    suspended = await api.get("/v1/models", headers=bearer(token))
    assert suspended.status_code == 403
    assert suspended.json()["error"]["code"] == "tenant_suspended"
    await api.post("/admin/tenants/acme/resume", headers=admin)
    assert (await api.get("/v1/models", headers=bearer(token))).status_code == 200
    assert (await api.delete("/admin/tenants/acme", headers=admin)).status_code == 200
    assert (await api.get("/v1/models", headers=bearer(token))).status_code == 401


async def test_admin_errors_use_the_openai_envelope(api: Client, admin_token: str) -> None:
    admin = bearer(admin_token)
    await api.post("/admin/tenants", json={"name": "acme", "department": "hr"}, headers=admin)
    duplicate = await api.post(
        "/admin/tenants", json={"name": "acme", "department": "hr"}, headers=admin
    )
    assert duplicate.status_code == 409
    assert (await api.get("/admin/tenants/nobody", headers=admin)).status_code == 404
    bad_name = await api.post(
        "/admin/tenants", json={"name": "Bad Name!", "department": "hr"}, headers=admin
    )
    assert bad_name.status_code == 400
    extra = await api.post(
        "/admin/tenants", json={"name": "x", "department": "hr", "admin": True}, headers=admin
    )
    assert extra.json()["error"]["code"] == "unsupported_parameter"
    for ttl in ("forever", "0s", "9999d"):
        body = {"tenant": "acme", "roles": ["app"], "ttl": ttl}
        response = await api.post("/admin/tokens", json=body, headers=admin)
        assert response.status_code == 400, ttl
    bad_role = await api.post(
        "/admin/tokens", json={"tenant": "acme", "roles": ["root"], "ttl": "1h"}, headers=admin
    )
    assert bad_role.status_code == 400
    assert set(bad_role.json()) == {"error"}


async def test_key_rotation_keeps_old_tokens_valid_and_publishes_both(
    api: Client, admin_token: str
) -> None:
    admin = bearer(admin_token)
    rotated = await api.post("/admin/keys/rotate", headers=admin)
    assert rotated.status_code == 201
    assert (await api.get("/admin/tenants", headers=admin)).status_code == 200, (
        "old key still verifies"
    )
    kids = {key["kid"] for key in (await api.get("/.well-known/jwks.json")).json()["keys"]}
    assert rotated.json()["kid"] in kids
    assert len(kids) == 2
