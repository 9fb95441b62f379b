"""Database fixtures shared by every test folder: SQLite files and real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gateway.db.session import create_db_engine, create_session_factory, upgrade_database
from tests.support.databases import (
    BACKENDS,
    fresh_postgres_schema,
    sqlite_url,
    throwaway_postgres_database,
)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """One throw-away PostgreSQL database for the whole test session (its DSN)."""
    with throwaway_postgres_database() as dsn:
        yield dsn


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return fresh_postgres_schema(request.getfixturevalue("postgres_database"))


@pytest.fixture
def database_url(empty_database_url: str) -> str:
    """The URL of a database migrated to the head revision."""
    upgrade_database(empty_database_url)
    return empty_database_url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with create_session_factory(engine)() as session:
        yield session
