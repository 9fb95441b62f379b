"""Integration tests: the real Litestar app (no sockets) around the in-memory echo engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.support.echo_engine import EchoEngine
from tests.support.identity import AUDIENCE, ISSUER, MemoryDirectory, TokenFactory


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


@pytest.fixture
async def anonymous_client(
    settings: Settings, echo_engine: EchoEngine, directory: MemoryDirectory
) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The app with no credentials attached."""
    app = create_app(settings, echo_engine, directory)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


@pytest.fixture
def client(anonymous_client: AsyncTestClient, tokens: TokenFactory) -> AsyncTestClient:  # type: ignore[type-arg]
    """The app, called with an ``app``-role token of tenant ``acme``."""
    token, _ = tokens.issue("acme", ("app",))
    anonymous_client.headers["authorization"] = f"Bearer {token}"
    return anonymous_client
