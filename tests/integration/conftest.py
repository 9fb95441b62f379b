"""Integration tests: the real Litestar app (no sockets) around the in-memory echo engine."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.orm import Session, sessionmaker

from gateway.app import create_app
from gateway.audit.config import AuditConfig
from gateway.audit.keys import create_content_key, create_signing_key
from gateway.audit.setup import AuditTrail, build_audit_trail
from gateway.db.session import create_db_engine, create_session_factory, upgrade_database
from gateway.metrics.registry import GatewayMetrics
from gateway.policy.store import PolicyStore
from gateway.ratelimit.limiter import RateLimiter
from gateway.redaction.analyzer import PiiAnalyzer
from gateway.services import Services
from gateway.settings import Settings
from tests.support.databases import sqlite_url
from tests.support.echo_engine import EchoEngine
from tests.support.identity import AUDIENCE, ISSUER, MemoryDirectory, TokenFactory

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def echo_engine() -> EchoEngine:
    return EchoEngine()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        certs_dir=tmp_path / "certs",
        model=tmp_path / "echo-model",
        max_request_bytes=65536,
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
    )


@pytest.fixture
def directory() -> MemoryDirectory:
    return MemoryDirectory()


@pytest.fixture
def tokens(tmp_path: Path, directory: MemoryDirectory) -> TokenFactory:
    return TokenFactory(keys_dir=tmp_path / "keys", directory=directory)


def shipped_policies() -> PolicyStore:
    """The policies/ folder the project ships (tenant acme is in engineering)."""
    return PolicyStore.open(REPO / "policies")


@pytest.fixture
async def limiter() -> AsyncIterator[RateLimiter]:
    """An in-process rate limiter."""
    memory_limiter = await RateLimiter.connect("memory://")
    yield memory_limiter
    await memory_limiter.close()


@pytest.fixture
def sqlite_sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """Sessions on a freshly migrated SQLite database (for routes that use the database)."""
    url = sqlite_url(tmp_path)
    upgrade_database(url)
    database = create_db_engine(url)
    yield create_session_factory(database)
    database.dispose()


@pytest.fixture(scope="session")
def pii_analyzer() -> PiiAnalyzer:
    """The real Presidio analyzer, offline (built once: it takes seconds)."""
    return PiiAnalyzer.build()


@pytest.fixture
def audit_trail(tmp_path: Path, sqlite_sessions: sessionmaker[Session]) -> AuditTrail:
    """The real audit writer on the test's SQLite database, with its own keys."""
    keys = tmp_path / "audit-keys"
    create_signing_key(keys / "signing-key.pem")
    create_content_key(keys / "content.key")
    config = AuditConfig(
        signing_key_file=keys / "signing-key.pem", content_key_file=keys / "content.key"
    )
    database = sqlite_sessions.kw["bind"]
    return build_audit_trail(database, config)


@pytest.fixture
def services(
    echo_engine: EchoEngine,
    directory: MemoryDirectory,
    sqlite_sessions: sessionmaker[Session],
    limiter: RateLimiter,
    pii_analyzer: PiiAnalyzer,
    audit_trail: AuditTrail,
) -> Services:
    """What the app is built from: echo engine, memory identities, SQLite, shipped policies."""
    return Services(
        engine=echo_engine,
        directory=directory,
        sessions=sqlite_sessions,
        policies=shipped_policies(),
        limiter=limiter,
        metrics=GatewayMetrics(),
        analyzer=pii_analyzer,
        audit=audit_trail,
    )


@pytest.fixture
async def anonymous_client(
    settings: Settings, services: Services
) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The app with no credentials attached."""
    app = create_app(settings, services)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
def client(anonymous_client: AsyncTestClient, tokens: TokenFactory) -> AsyncTestClient:  # type: ignore[type-arg]
    """The app, called with an ``app``-role token of tenant ``acme``."""
    token, _ = tokens.issue("acme", ("app",))
    anonymous_client.headers["authorization"] = f"Bearer {token}"
    return anonymous_client
