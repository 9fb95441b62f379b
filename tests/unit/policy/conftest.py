from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.policy.policy_folder import PolicyFolder, make_folder

SHIPPED_POLICIES = Path(__file__).resolve().parents[3] / "policies"


@pytest.fixture
def folder(tmp_path: Path) -> PolicyFolder:
    """A policy folder holding only a complete default.yaml."""
    return make_folder(tmp_path)


@pytest.fixture
def shipped_policies() -> Path:
    return SHIPPED_POLICIES


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
