"""The database schema's version, checked and upgraded with Alembic (configured in code)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

import gateway
from gateway.db.engine import create_db_engine
from gateway.errors import ConfigurationError

MIGRATIONS_DIR = Path(gateway.__file__).resolve().parents[1] / "migrations"
"""Alembic's script folder, at the top of the repository (not an installed package)."""

NOT_CURRENT_MESSAGE = "database schema is not up to date; run `enclave db upgrade`"


@dataclass(frozen=True, slots=True)
class SchemaRevision:
    """Where a database's schema stands against the migrations shipped with this code."""

    current: str | None
    """The database's revision; None for an empty (never upgraded) database."""
    head: str
    """The newest revision in ``migrations/versions``."""

    @property
    def is_current(self) -> bool:
        return self.current == self.head


@dataclass(frozen=True, slots=True)
class SchemaUpgrade:
    """What ``upgrade_database`` did."""

    before: str | None
    """The revision before; None for an empty database."""
    after: str | None
    """The revision after; None when downgraded to base."""

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration, built in code; ``connection`` is the one migrations run on."""
    if not (MIGRATIONS_DIR / "env.py").is_file():
        raise ConfigurationError(f"{MIGRATIONS_DIR}: Alembic migrations are missing")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise ConfigurationError(f"{MIGRATIONS_DIR}: expected one head revision, found {heads}")
    return heads[0]


def schema_revision(engine: Engine) -> SchemaRevision:
    """The database's current revision beside the code's head revision."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return SchemaRevision(current=current, head=head_revision())


def schema_is_current(engine: Engine) -> bool:
    return schema_revision(engine).is_current


def require_current_schema(engine: Engine) -> None:
    """Refuse to go on (ConfigurationError) unless the schema is at the head revision."""
    if not schema_is_current(engine):
        raise ConfigurationError(NOT_CURRENT_MESSAGE)


def upgrade_database(url: str, revision: str = "head") -> SchemaUpgrade:
    """Run the migrations up to ``revision`` (idempotent: an up-to-date database is untouched)."""
    return _migrate(url, revision, command.upgrade)


def downgrade_database(url: str, revision: str) -> SchemaUpgrade:
    """Run the migrations down to ``revision`` (``base`` removes every table): tests and repair."""
    return _migrate(url, revision, command.downgrade)


def _migrate(url: str, revision: str, step: Callable[[Config, str], None]) -> SchemaUpgrade:
    engine = create_db_engine(url)
    try:
        before = schema_revision(engine).current
        with engine.begin() as connection:
            step(alembic_config(connection), revision)
        after = schema_revision(engine).current
    finally:
        engine.dispose()
    return SchemaUpgrade(before=before, after=after)
