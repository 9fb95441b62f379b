"""Migrations on SQLite and PostgreSQL: upgrade, idempotence, downgrade, the schema check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from gateway.db.models import Base
from gateway.db.schema import downgrade_database, head_revision
from gateway.db.session import (
    create_db_engine,
    require_current_schema,
    schema_is_current,
    schema_revision,
    upgrade_database,
)
from gateway.errors import ConfigurationError

IDENTITY_TABLES = {
    "tenants",
    "signing_keys",
    "issued_tokens",
    "audit_events",
    "audit_checkpoints",
    "audit_chains",
}


@pytest.fixture
def empty_engine(empty_database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(empty_database_url)
    yield engine
    engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_creates_the_identity_tables(
    empty_database_url: str, empty_engine: Engine
) -> None:
    assert _tables(empty_engine) == set()
    upgrade = upgrade_database(empty_database_url)
    assert (upgrade.before, upgrade.after, upgrade.changed) == (None, head_revision(), True)
    assert _tables(empty_engine) == IDENTITY_TABLES
    indexes = inspect(empty_engine).get_indexes("issued_tokens")
    assert [index["column_names"] for index in indexes] == [["tenant_id"]]


def test_second_upgrade_changes_nothing(empty_database_url: str) -> None:
    upgrade_database(empty_database_url)
    again = upgrade_database(empty_database_url)
    assert again.before == again.after == head_revision()
    assert not again.changed


def test_downgrade_to_base_and_back(empty_database_url: str, empty_engine: Engine) -> None:
    upgrade_database(empty_database_url)
    down = downgrade_database(empty_database_url, "base")
    assert (down.before, down.after) == (head_revision(), None)
    assert _tables(empty_engine) == set()
    assert schema_revision(empty_engine).current is None
    upgrade_database(empty_database_url)
    assert _tables(empty_engine) == IDENTITY_TABLES


def test_schema_check_refuses_an_empty_database(empty_engine: Engine) -> None:
    assert not schema_is_current(empty_engine)
    with pytest.raises(ConfigurationError, match=r"run `enclave db upgrade`"):
        require_current_schema(empty_engine)


def test_schema_check_accepts_a_migrated_database(engine: Engine) -> None:
    assert schema_is_current(engine)
    require_current_schema(engine)
    revision = schema_revision(engine)
    assert revision.current == revision.head == head_revision()


def test_hand_written_migration_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
