"""Engines, sessions and the schema check: what the app's lifespan and the CLI open.

``create_db_engine`` lives in ``gateway.db.engine`` and the Alembic helpers in
``gateway.db.schema``; they are re-exported here so callers need one import.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from gateway.db.engine import create_db_engine, display_url
from gateway.db.schema import (
    SchemaRevision,
    SchemaUpgrade,
    require_current_schema,
    schema_is_current,
    schema_revision,
    upgrade_database,
)

__all__ = [
    "SchemaRevision",
    "SchemaUpgrade",
    "create_db_engine",
    "create_session_factory",
    "display_url",
    "require_current_schema",
    "schema_is_current",
    "schema_revision",
    "upgrade_database",
]


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose loaded rows stay readable after commit (services return plain data)."""
    return sessionmaker(engine, expire_on_commit=False)
