"""Real databases for tests: SQLite files and a throw-away PostgreSQL database.

PostgreSQL is required, never skipped: the tests fail with the reason when the server
(``ENCLAVE_TEST_POSTGRES_DSN``, default ``host=127.0.0.1 port=5432 user=postgres dbname=test``)
cannot be reached. One database ``enclave_test_<random>`` is created per test session and
dropped at its end; each test gets its own schema in it (through ``search_path``), so tests
stay independent without paying for a new database each.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

ADMIN_DSN = os.environ.get(
    "ENCLAVE_TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test"
)
BACKENDS = ("sqlite", "postgresql")


def admin_connection(dsn: str = ADMIN_DSN) -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL is required for these tests and unreachable at {dsn!r}: {exc}"
    pytest.fail(reason, pytrace=False)


@contextmanager
def throwaway_postgres_database() -> Iterator[str]:
    """A new, empty database; yields its libpq DSN and drops it afterwards."""
    name = f"enclave_test_{secrets.token_hex(6)}"
    with admin_connection() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = psycopg.conninfo.conninfo_to_dict(ADMIN_DSN)
    try:
        yield psycopg.conninfo.make_conninfo(**{**params, "dbname": name})
    finally:
        with admin_connection() as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def fresh_postgres_schema(database_dsn: str) -> str:
    """A new empty schema in the database; returns a SQLAlchemy URL whose tables land in it."""
    schema = f"t_{secrets.token_hex(6)}"
    with admin_connection(database_dsn) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    params = psycopg.conninfo.conninfo_to_dict(database_dsn)
    user = params.get("user", "postgres")
    password = f":{params['password']}" if params.get("password") else ""
    host, port, dbname = params.get("host", "127.0.0.1"), params.get("port", 5432), params["dbname"]
    return f"postgresql://{user}{password}@{host}:{port}/{dbname}?options=-csearch_path%3D{schema}"


def sqlite_url(folder: Path) -> str:
    """A SQLite file in a folder that does not exist yet (the engine must create it)."""
    return f"sqlite:///{folder / 'var' / 'enclave.db'}"
