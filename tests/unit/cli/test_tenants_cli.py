"""``enclave tenants``: create, list, show, suspend, resume, delete; tables and JSON."""

from __future__ import annotations

from tests.support.cli import EnclaveCli


def test_create_list_and_show(cli: EnclaveCli) -> None:
    assert "No tenants yet" in cli.ok("tenants", "list").stdout
    assert cli.json("tenants", "list") == []
    created = cli.ok("tenants", "create", "acme", "--department", "finance").stdout
    assert created == "Created tenant acme (department finance).\n"
    cli.ok("tenants", "create", "beta", "--department", "hr")
    table = cli.ok("tenants", "list").stdout.splitlines()
    assert table[0].split() == ["NAME", "DEPARTMENT", "STATUS", "CREATED"]
    assert table[1].split()[:3] == ["acme", "finance", "active"]
    listed = cli.json("tenants", "list")
    assert [(t["name"], t["department"], t["status"]) for t in listed] == [
        ("acme", "finance", "active"),
        ("beta", "hr", "active"),
    ]
    shown = cli.json("tenants", "show", "acme")
    assert (shown["name"], shown["live_tokens"]) == ("acme", 0)
    assert shown["created_at"].endswith("+00:00")
    assert "department:  finance" in cli.ok("tenants", "show", "acme").stdout


def test_create_json(cli: EnclaveCli) -> None:
    created = cli.json("tenants", "create", "acme", "--department", "finance")
    assert (created["name"], created["status"]) == ("acme", "active")


def test_duplicate_is_exit_1(cli: EnclaveCli) -> None:
    cli.ok("tenants", "create", "acme", "--department", "finance")
    message = cli.refused("tenants", "create", "acme", "--department", "finance")
    assert message == "enclave: tenant 'acme' already exists"


def test_if_missing_keeps_an_identical_tenant_but_not_another_department(
    cli: EnclaveCli,
) -> None:
    cli.ok("tenants", "create", "acme", "--department", "finance", "--if-missing")
    kept = cli.ok("tenants", "create", "acme", "--department", "finance", "--if-missing")
    assert "already exists" in kept.stdout
    message = cli.refused("tenants", "create", "acme", "--department", "hr", "--if-missing")
    assert "department 'finance', not 'hr'" in message


def test_bad_name_is_exit_1(cli: EnclaveCli) -> None:
    message = cli.refused("tenants", "create", "Acme_Corp", "--department", "finance")
    assert "lower-case letters" in message


def test_missing_option_is_a_usage_error(cli: EnclaveCli) -> None:
    result = cli.run("tenants", "create", "acme")
    assert result.exit_code == 2
    assert "--department" in result.stderr


def test_unknown_tenant_is_exit_1(cli: EnclaveCli) -> None:
    for action in ("show", "suspend", "resume", "delete"):
        assert cli.refused("tenants", action, "ghost") == "enclave: tenant 'ghost' not found"


def test_suspend_and_resume(cli: EnclaveCli) -> None:
    cli.ok("tenants", "create", "acme", "--department", "finance")
    assert "suspended" in cli.ok("tenants", "suspend", "acme").stdout
    assert cli.json("tenants", "show", "acme")["status"] == "suspended"
    cli.ok("tenants", "resume", "acme")
    assert cli.json("tenants", "show", "acme")["status"] == "active"


def test_delete_asks_first_and_yes_skips_the_question(cli: EnclaveCli) -> None:
    cli.ok("tenants", "create", "acme", "--department", "finance")
    declined = cli.run("tenants", "delete", "acme", input="n\n")
    assert declined.exit_code == 1
    assert "live token(s) stop working" in declined.stderr
    assert cli.json("tenants", "show", "acme")["name"] == "acme"
    cli.ok("tenants", "delete", "acme", input="y\n")
    cli.refused("tenants", "show", "acme")
    cli.ok("tenants", "create", "acme", "--department", "finance")
    deleted = cli.ok("tenants", "delete", "acme", "--yes")
    assert deleted.stdout == "Deleted tenant acme and 0 token record(s).\n"
    assert cli.json("tenants", "list") == []
