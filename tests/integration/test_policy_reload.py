"""Editing a department's YAML changes what the running gateway allows — no restart."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from gateway.policy.store import PolicyStore
from gateway.services import Services
from gateway.settings import Settings
from tests.integration.conftest import REPO
from tests.support.echo_engine import ECHO_MODEL
from tests.support.identity import TokenFactory

pytestmark = pytest.mark.anyio

Client = AsyncTestClient  # type: ignore[type-arg]
TWO_CHOICES = {"model": ECHO_MODEL, "messages": [{"role": "user", "content": "hi"}], "n": 2}


@pytest.fixture
def policy_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    shutil.copytree(REPO / "policies", folder)
    return folder


@pytest.fixture
async def support_client(
    policy_folder: Path, settings: Settings, services: Services, tokens: TokenFactory
) -> AsyncIterator[Client]:
    store = PolicyStore.open(policy_folder, force_polling=True)
    app = create_app(settings, dataclasses.replace(services, policies=store))
    tokens.add_tenant("helpdesk", "support")
    token, _ = tokens.issue("helpdesk", ("app",))
    async with AsyncTestClient(app=app) as client:
        client.headers["authorization"] = f"Bearer {token}"
        yield client


async def status_soon(client: Client, expected: int, within_seconds: float = 10.0) -> int:
    """The status of a two-choice request, polling until it is ``expected`` or time runs out."""
    deadline = asyncio.get_running_loop().time() + within_seconds
    while True:
        status = (await client.post("/v1/chat/completions", json=TWO_CHOICES)).status_code
        if status == expected or asyncio.get_running_loop().time() > deadline:
            return status
        await asyncio.sleep(0.2)


async def test_edit_takes_effect_and_a_broken_edit_keeps_the_last_good_set(
    support_client: Client, policy_folder: Path
) -> None:
    support = policy_folder / "support.yaml"
    original = support.read_text()
    assert (await support_client.post("/v1/chat/completions", json=TWO_CHOICES)).status_code == 400
    assert "max_n" not in original, "support inherits max_n: 1 from default"
    support.write_text(original.replace("limits:\n", "limits:\n  max_n: 2\n", 1))
    assert await status_soon(support_client, 200) == 200
    support.write_text(original.replace("limits:\n", "limits:\n  max_n: lots\n", 1))
    await asyncio.sleep(2.0)
    assert (await support_client.post("/v1/chat/completions", json=TWO_CHOICES)).status_code == 200
