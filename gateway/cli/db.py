"""``enclave db``: bring the database schema up to date and say where it stands."""

from __future__ import annotations

import click

from gateway.cli.database import reported_database_errors
from gateway.cli.output import json_option, print_fields, print_json
from gateway.db.session import create_db_engine, display_url, schema_revision, upgrade_database
from gateway.settings import load_settings

EMPTY = "(empty)"


@click.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
def upgrade_command() -> None:
    """Apply the pending migrations (safe to repeat)."""
    url = load_settings().database_url
    with reported_database_errors(url):
        upgrade = upgrade_database(url)
    before, after = upgrade.before or EMPTY, upgrade.after or EMPTY
    if upgrade.changed:
        click.echo(f"Upgraded {display_url(url)} from {before} to {after} (head).")
    else:
        click.echo(f"{display_url(url)} is already at {after} (head); nothing to do.")


@db_group.command("current")
@json_option
def current_command(as_json: bool) -> None:
    """Show the database's schema revision beside the newest one."""
    url = load_settings().database_url
    engine = create_db_engine(url)
    try:
        with reported_database_errors(url):
            revision = schema_revision(engine)
    finally:
        engine.dispose()
    if as_json:
        print_json(
            {
                "database": display_url(url),
                "current": revision.current,
                "head": revision.head,
                "up_to_date": revision.is_current,
            }
        )
        return
    state = "up to date" if revision.is_current else "behind: run `enclave db upgrade`"
    print_fields(
        [
            ("database", display_url(url)),
            ("current revision", revision.current or EMPTY),
            ("head revision", f"{revision.head} ({state})"),
        ]
    )
