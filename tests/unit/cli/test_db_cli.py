"""``enclave db``: upgrade prints from/to, current tells whether an upgrade is needed."""

from __future__ import annotations

from gateway.db.schema import head_revision
from tests.support.cli import EnclaveCli


def test_upgrade_from_empty_then_again(empty_cli: EnclaveCli) -> None:
    first = empty_cli.ok("db", "upgrade").stdout
    assert f"from (empty) to {head_revision()} (head)" in first
    second = empty_cli.ok("db", "upgrade").stdout
    assert f"already at {head_revision()} (head)" in second


def test_current_before_and_after_upgrade(empty_cli: EnclaveCli) -> None:
    before = empty_cli.json("db", "current")
    assert before["current"] is None
    assert before["head"] == head_revision()
    assert before["up_to_date"] is False
    assert "enclave db upgrade" in empty_cli.ok("db", "current").stdout
    empty_cli.ok("db", "upgrade")
    after = empty_cli.json("db", "current")
    assert (after["current"], after["up_to_date"]) == (head_revision(), True)
    assert "up to date" in empty_cli.ok("db", "current").stdout


def test_commands_refuse_an_outdated_schema_with_exit_2(empty_cli: EnclaveCli) -> None:
    message = empty_cli.refused("tenants", "list", exit_code=2)
    assert message == "enclave: database schema is not up to date; run `enclave db upgrade`"


def test_unreachable_database_is_exit_2_without_the_password() -> None:
    cli = EnclaveCli(env={"ENCLAVE_DATABASE_URL": "postgresql://enclave:hunter2@127.0.0.1:1/none"})
    message = cli.refused("tenants", "list", exit_code=2)
    assert "cannot use the database" in message
    assert "hunter2" not in message
    assert "hunter2" not in cli.refused("db", "upgrade", exit_code=2)
