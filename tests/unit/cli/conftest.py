"""The CLI against a migrated database (SQLite and PostgreSQL) and a private keys folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import EnclaveCli


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> EnclaveCli:
    return EnclaveCli(
        env={"ENCLAVE_DATABASE_URL": database_url, "ENCLAVE_KEYS_DIR": str(tmp_path / "keys")}
    )


@pytest.fixture
def empty_cli(empty_database_url: str, tmp_path: Path) -> EnclaveCli:
    """The CLI against a database that was never upgraded."""
    return EnclaveCli(
        env={
            "ENCLAVE_DATABASE_URL": empty_database_url,
            "ENCLAVE_KEYS_DIR": str(tmp_path / "keys"),
        }
    )
