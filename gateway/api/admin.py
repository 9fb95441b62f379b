"""Admin REST API (role ``admin``): tenants, tokens and signing keys, for automation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio.to_thread
import msgspec
from litestar import Request, Router, delete, get, post
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from gateway.api.openapi import json_body
from gateway.auth.guards import requires_role
from gateway.auth.principal import ADMIN_ROLE
from gateway.errors import ConfigurationError, ServiceUnavailableError
from gateway.identity import issuing, keys, tenants, tokens
from gateway.identity.issuing import IssuedToken
from gateway.identity.keys import KeyInfo
from gateway.identity.tenants import DeletedTenant, TenantInfo
from gateway.identity.tokens import TokenInfo
from gateway.identity.ttl import parse_ttl
from gateway.settings import Settings
from gateway.wire.decode import decode_request

T = TypeVar("T")
Sessions = sessionmaker[Session]


class NewTenant(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    name: str
    department: str


class NewToken(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    tenant: str
    roles: list[str]
    ttl: str
    """Lifetime such as ``30m``, ``8h`` or ``7d``."""
    subject: str | None = None


async def _transaction(sessions: Sessions, work: Callable[[Session], T]) -> T:
    """Run ``work`` in a worker thread inside one committed transaction."""

    def run() -> T:
        with sessions() as session, session.begin():
            return work(session)

    try:
        return await anyio.to_thread.run_sync(run)
    except SQLAlchemyError:
        raise ServiceUnavailableError(
            "the database is unavailable; try again", code="database_unavailable"
        ) from None
    except ConfigurationError as exc:
        raise ServiceUnavailableError(str(exc), code="signing_key_unavailable") from None


@get("/tenants")
async def list_tenants(sessions: Sessions) -> dict[str, list[TenantInfo]]:
    return {"data": list(await _transaction(sessions, tenants.list_tenants))}


@post("/tenants", status_code=201, operation_class=json_body(NewTenant))
async def create_tenant(request: Request[Any, Any, Any], sessions: Sessions) -> TenantInfo:
    body = decode_request(await request.body(), NewTenant)
    return await _transaction(
        sessions, lambda s: tenants.create_tenant(s, body.name, body.department)
    )


@get("/tenants/{name:str}")
async def show_tenant(name: str, sessions: Sessions) -> TenantInfo:
    return await _transaction(sessions, lambda s: tenants.get_tenant(s, name))


@post("/tenants/{name:str}/suspend", status_code=200)
async def suspend_tenant(name: str, sessions: Sessions) -> TenantInfo:
    return await _transaction(sessions, lambda s: tenants.set_tenant_status(s, name, "suspended"))


@post("/tenants/{name:str}/resume", status_code=200)
async def resume_tenant(name: str, sessions: Sessions) -> TenantInfo:
    return await _transaction(sessions, lambda s: tenants.set_tenant_status(s, name, "active"))


@delete("/tenants/{name:str}", status_code=200)
async def delete_tenant(name: str, sessions: Sessions) -> DeletedTenant:
    return await _transaction(sessions, lambda s: tenants.delete_tenant(s, name))


@get("/tokens")
async def list_tokens(
    sessions: Sessions, tenant: str | None = None, include_expired: bool = False
) -> dict[str, list[TokenInfo]]:
    found = await _transaction(sessions, lambda s: tokens.list_tokens(s, tenant, include_expired))
    return {"data": list(found)}


@post("/tokens", status_code=201, operation_class=json_body(NewToken))
async def issue_token(
    request: Request[Any, Any, Any], sessions: Sessions, settings: Settings
) -> IssuedToken:
    body = decode_request(await request.body(), NewToken)
    ttl_seconds = parse_ttl(body.ttl)
    return await _transaction(
        sessions,
        lambda s: issuing.issue_token(
            s,
            settings,
            tenant=body.tenant,
            roles=body.roles,
            ttl_seconds=ttl_seconds,
            subject=body.subject,
        ),
    )


@post("/tokens/{jti:str}/revoke", status_code=200)
async def revoke_token(jti: str, sessions: Sessions) -> TokenInfo:
    return await _transaction(sessions, lambda s: tokens.revoke_token(s, jti))


@get("/keys")
async def list_keys(sessions: Sessions) -> dict[str, list[KeyInfo]]:
    return {"data": list(await _transaction(sessions, keys.list_keys))}


@post("/keys/rotate", status_code=201)
async def rotate_key(sessions: Sessions, settings: Settings) -> KeyInfo:
    return await _transaction(sessions, lambda s: issuing.rotate_signing_key(s, settings))


admin_router = Router(
    path="/admin",
    guards=[requires_role(ADMIN_ROLE)],
    route_handlers=[
        list_tenants,
        create_tenant,
        show_tenant,
        suspend_tenant,
        resume_tenant,
        delete_tenant,
        list_tokens,
        issue_token,
        revoke_token,
        list_keys,
        rotate_key,
    ],
)
