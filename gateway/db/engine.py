"""Database engines: SQLite (embedded default, WAL + synchronous=FULL) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from gateway.errors import ConfigurationError

SQLITE_BUSY_TIMEOUT_MS = 5000
"""How long a SQLite writer waits for another one before failing with "database is locked"."""

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
)
"""Run on every new SQLite connection: durable commits, enforced foreign keys, patient writers."""

POSTGRES_DRIVER = "postgresql+psycopg"


def database_url(url: str) -> URL:
    """Parse ``url``, pointing plain ``postgresql://`` (and ``postgres://``) at psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"ENCLAVE_DATABASE_URL: not a database URL: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        return parsed.set(drivername=POSTGRES_DRIVER)
    return parsed


def create_db_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets its folder created and its pragmas on every connection."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise ConfigurationError(
        f"ENCLAVE_DATABASE_URL: unsupported database {parsed.get_backend_name()!r} "
        "(use sqlite:///path or postgresql://...)"
    )


def display_url(url: str) -> str:
    """``url`` fit for printing: the password replaced by ``***``."""
    return database_url(url).render_as_string(hide_password=True)


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        _create_parent_folder(Path(url.database))
    engine = create_engine(url)
    event.listen(engine, "connect", _apply_sqlite_pragmas)
    return engine


def _create_parent_folder(database: Path) -> None:
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"{database.parent}: cannot create the database folder: {exc.strerror}"
        ) from exc


def _apply_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()
