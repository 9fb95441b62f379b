"""Integration tests: the real Litestar app (no sockets) around the in-memory echo engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.support.echo_engine import EchoEngine


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def echo_engine() -> EchoEngine:
    return EchoEngine()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        certs_dir=tmp_path / "certs", model=tmp_path / "echo-model", max_request_bytes=65536
    )


@pytest.fixture
async def client(settings: Settings, echo_engine: EchoEngine) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    app = create_app(settings, echo_engine)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client
