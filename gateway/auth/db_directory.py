"""The identity directory backed by the database (keys cached briefly, token status never)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
import jwt
import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.directory import TenantStatus, TokenStatus, VerificationKey
from gateway.errors import ServiceUnavailableError
from gateway.identity.clock import utc_now
from gateway.identity.keys import KeyInfo, find_verification_key, list_keys
from gateway.identity.tenants import find_tenant
from gateway.identity.tokens import find_token_state

T = TypeVar("T")
log = structlog.get_logger("enclave.auth")

KNOWN_KEY_TTL_SECONDS = 60.0
UNKNOWN_KEY_TTL_SECONDS = 5.0
MAX_CACHED_KIDS = 1024


class DatabaseDirectory:
    """Runs the look-ups in worker threads so the event loop never waits on the database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._keys: OrderedDict[str, tuple[VerificationKey | None, float]] = OrderedDict()

    async def own_key(self, kid: str) -> VerificationKey | None:
        cached = self._keys.get(kid)
        now = time.monotonic()
        if cached is not None and now < cached[1]:
            return cached[0]
        info = await self._run(lambda session: find_verification_key(session, kid, utc_now()))
        key = _verification_key(info) if info else None
        ttl = KNOWN_KEY_TTL_SECONDS if key else UNKNOWN_KEY_TTL_SECONDS
        self._keys[kid] = (key, now + ttl)
        self._keys.move_to_end(kid)
        while len(self._keys) > MAX_CACHED_KIDS:
            self._keys.popitem(last=False)
        return key

    async def token_status(self, jti: str) -> TokenStatus | None:
        state = await self._run(lambda session: find_token_state(session, jti))
        if state is None:
            return None
        return TokenStatus(
            tenant=state.tenant,
            revoked=state.revoked_at is not None,
            tenant_active=state.tenant_status == "active",
        )

    async def tenant_status(self, name: str) -> TenantStatus | None:
        tenant = await self._run(lambda session: find_tenant(session, name))
        if tenant is None:
            return None
        return TenantStatus(name=tenant.name, department=tenant.department, active=tenant.is_active)

    async def public_jwks(self) -> list[dict[str, str]]:
        now = utc_now()
        keys = await self._run(list_keys)
        return [key.public_jwk for key in keys if key.verifies_at(now)]

    async def _run(self, query: Callable[[Session], T]) -> T:
        def in_session() -> T:
            with self._sessions() as session:
                return query(session)

        try:
            return await anyio.to_thread.run_sync(in_session)
        except SQLAlchemyError as exc:
            log.error("identity store unavailable", error=type(exc).__name__)
            raise ServiceUnavailableError(
                "the identity store is unavailable; try again", code="identity_store_unavailable"
            ) from None


def _verification_key(info: KeyInfo) -> VerificationKey:
    public_key = jwt.PyJWK(info.public_jwk, algorithm=info.algorithm).key
    return VerificationKey(kid=info.kid, algorithm=info.algorithm, public_key=public_key)
