"""Engines: SQLite durability pragmas and folder creation, PostgreSQL URL normalisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from gateway.db.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    create_db_engine,
    database_url,
    display_url,
)
from gateway.db.models import Tenant
from gateway.errors import ConfigurationError


def _pragma(engine: Engine, name: str) -> object:
    with engine.connect() as connection:
        return connection.execute(text(f"PRAGMA {name}")).scalar()


def test_sqlite_gets_wal_full_sync_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'enclave.db'}")
    try:
        assert _pragma(engine, "journal_mode") == "wal"
        assert _pragma(engine, "synchronous") == 2  # FULL
        assert _pragma(engine, "foreign_keys") == 1
        assert _pragma(engine, "busy_timeout") == SQLITE_BUSY_TIMEOUT_MS
    finally:
        engine.dispose()


def test_sqlite_pragmas_hold_on_every_pooled_connection(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'enclave.db'}")
    try:
        with engine.connect() as first, engine.connect() as second:
            for connection in (first, second):
                assert connection.execute(text("PRAGMA synchronous")).scalar() == 2
                assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        engine.dispose()


def test_sqlite_folder_is_created(tmp_path: Path) -> None:
    database = tmp_path / "deep" / "var" / "enclave.db"
    engine = create_db_engine(f"sqlite:///{database}")
    try:
        with engine.connect():
            pass
        assert database.is_file()
    finally:
        engine.dispose()


def test_sqlite_relative_path_is_relative_to_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = create_db_engine("sqlite:///var/enclave.db")
    try:
        with engine.connect():
            pass
    finally:
        engine.dispose()
    assert (tmp_path / "var" / "enclave.db").is_file()


def test_sqlite_folder_that_cannot_be_created_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ConfigurationError, match="cannot create the database folder"):
        create_db_engine(f"sqlite:///{tmp_path / 'file' / 'enclave.db'}")


@pytest.mark.parametrize(
    "url",
    ["postgresql://u:p@db:5432/enclave", "postgres://u:p@db:5432/enclave"],
)
def test_plain_postgres_urls_use_psycopg_3(url: str) -> None:
    assert database_url(url).drivername == "postgresql+psycopg"


def test_explicit_driver_is_kept() -> None:
    assert database_url("postgresql+psycopg://db/enclave").drivername == "postgresql+psycopg"


def test_postgres_engine_uses_psycopg() -> None:
    engine = create_db_engine("postgresql://u:p@127.0.0.1/none")
    try:
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["mysql://db/enclave", "not a url"])
def test_unsupported_or_malformed_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError, match="ENCLAVE_DATABASE_URL"):
        create_db_engine(url)


def test_display_url_hides_the_password() -> None:
    shown = display_url("postgresql://admin:s3cret@db:5432/enclave")
    assert "s3cret" not in shown
    assert shown == "postgresql+psycopg://admin:***@db:5432/enclave"


def test_timestamps_come_back_timezone_aware_in_utc(session: Session) -> None:
    plus_two = timezone(timedelta(hours=2))
    created = datetime(2030, 1, 1, 14, 0, tzinfo=plus_two)
    session.add(
        Tenant(
            name="acme",
            department="finance",
            status="active",
            created_at=created,
            updated_at=created,
        )
    )
    session.commit()
    session.expire_all()
    row = session.query(Tenant).one()
    assert row.created_at == datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    assert row.created_at.tzinfo is UTC


def test_naive_timestamps_are_refused(session: Session) -> None:
    naive = datetime(2030, 1, 1, 12, 0)  # naive on purpose
    session.add(
        Tenant(
            name="acme", department="finance", status="active", created_at=naive, updated_at=naive
        )
    )
    with pytest.raises(StatementError, match="timezone-aware"):
        session.flush()
