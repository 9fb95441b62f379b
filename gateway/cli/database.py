"""The CLI's way into the identity database: settings' URL, schema check, one transaction."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from gateway.db.session import (
    create_db_engine,
    create_session_factory,
    display_url,
    require_current_schema,
)
from gateway.errors import ConfigurationError
from gateway.settings import Settings


@contextmanager
def identity_session(settings: Settings) -> Iterator[Session]:
    """A session in one transaction, committed when the block ends without an error."""
    engine = create_db_engine(settings.database_url)
    try:
        with reported_database_errors(settings.database_url):
            require_current_schema(engine)
            with create_session_factory(engine).begin() as session:
                yield session
    finally:
        engine.dispose()


@contextmanager
def reported_database_errors(url: str) -> Iterator[None]:
    """An unreachable or locked database becomes a ConfigurationError naming it (no password)."""
    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "unknown error"
        raise ConfigurationError(f"cannot use the database {display_url(url)}: {reason}") from None
