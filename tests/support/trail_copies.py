"""Copies of a written audit trail, one per manipulation: a SQLite file or a PostgreSQL schema."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote

from psycopg import sql

from tests.support.databases import admin_connection, fresh_postgres_schema


def schema_of(url: str) -> str:
    """The schema a ``fresh_postgres_schema`` URL puts its tables in."""
    return unquote(url).rsplit("search_path=", 1)[1]


def dsn_of(url: str) -> str:
    """The libpq URI of a ``fresh_postgres_schema`` URL's database."""
    return url.split("?", 1)[0]


def copy_trail(url: str, folder: Path) -> str:
    """A copy of the database at ``url`` (SQLite file or PostgreSQL schema); its URL."""
    if url.startswith("sqlite:///"):
        source = Path(url.removeprefix("sqlite:///"))
        target = folder / "copy.db"
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"
    copy_url = fresh_postgres_schema(dsn_of(url))
    source_schema, target_schema = schema_of(url), schema_of(copy_url)
    with admin_connection(dsn_of(url)) as connection:
        tables = connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (source_schema,),
        ).fetchall()
        for (table,) in tables:
            original = sql.Identifier(source_schema, str(table))
            copied = sql.Identifier(target_schema, str(table))
            connection.execute(
                sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING ALL)").format(copied, original)
            )
            connection.execute(sql.SQL("INSERT INTO {} SELECT * FROM {}").format(copied, original))
    return copy_url
