"""``enclave keys`` and ``enclave tokens``: rotate, issue, list (never the token), revoke."""

from __future__ import annotations

import jwt
import pytest

from tests.support.cli import EnclaveCli


@pytest.fixture
def ready(cli: EnclaveCli) -> EnclaveCli:
    """A tenant ``acme`` and an active signing key."""
    cli.ok("tenants", "create", "acme", "--department", "finance")
    cli.ok("keys", "rotate")
    return cli


def _issue(cli: EnclaveCli, *extra: str) -> str:
    token: str = cli.ok(
        "tokens", "issue", "--tenant", "acme", "--roles", "app", "--ttl", "8h", "-q", *extra
    ).stdout.strip()
    return token


def test_keys_rotate_if_missing_and_list(cli: EnclaveCli) -> None:
    assert "No signing keys yet" in cli.ok("keys", "list").stdout
    created = cli.json("keys", "rotate", "--if-missing")
    assert created["created"] is True
    kept = cli.json("keys", "rotate", "--if-missing")
    assert (kept["kid"], kept["created"]) == (created["kid"], False)
    assert "Kept the active signing key" in cli.ok("keys", "rotate", "--if-missing").stdout
    rotated = cli.ok("keys", "rotate").stdout
    assert f"The previous key {created['kid']} verifies its tokens until" in rotated
    keys = cli.json("keys", "list")
    assert [key["status"] for key in keys] == ["retired", "active"]
    assert keys[0]["verify_until"] is not None
    assert all("d" not in key["public_jwk"] for key in keys)
    table = cli.ok("keys", "list").stdout.splitlines()
    assert table[0].split()[:3] == ["KID", "ALGORITHM", "STATUS"]


def test_issue_quiet_prints_only_a_verifiable_token(ready: EnclaveCli) -> None:
    token = _issue(ready, "--subject", "billing")
    assert token.count(".") == 2
    assert "\n" not in token
    kid = jwt.get_unverified_header(token)["kid"]
    [key] = ready.json("keys", "list")
    assert key["kid"] == kid
    claims = jwt.decode(
        token, jwt.PyJWK(key["public_jwk"]).key, algorithms=["EdDSA"], audience="enclave-api"
    )
    assert (claims["sub"], claims["tenant"], claims["roles"]) == ("billing", "acme", ["app"])
    assert claims["exp"] - claims["iat"] == 8 * 3600


def test_issue_default_output_explains_and_json_carries_the_jti(ready: EnclaveCli) -> None:
    shown = ready.ok(
        "tokens", "issue", "--tenant", "acme", "--roles", "app,compliance", "--ttl", "30m"
    ).stdout
    assert "roles:   app,compliance" in shown
    assert "enclave tokens revoke" in shown
    issued = ready.json("tokens", "issue", "--tenant", "acme", "--roles", "admin", "--ttl", "3600s")
    assert issued["token"].count(".") == 2
    assert issued["roles"] == ["admin"]
    assert len(issued["jti"]) == 32


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--ttl", "91d"], "exceeds the maximum of 90d"),
        (["--ttl", "0s"], "must be positive"),
        (["--ttl", "eight hours"], "e.g. 3600s, 30m, 8h or 7d"),
        (["--ttl", "1h", "--roles", "root"], "unknown role(s) root"),
        (["--ttl", "1h", "--tenant", "ghost"], "tenant 'ghost' not found"),
    ],
)
def test_issue_refusals_are_exit_1(ready: EnclaveCli, options: list[str], expected: str) -> None:
    base = {"--tenant": "acme", "--roles": "app"}
    chosen = dict(zip(options[::2], options[1::2], strict=True))
    args = [item for pair in {**base, **chosen}.items() for item in pair]
    assert expected in ready.refused("tokens", "issue", *args)


def test_max_ttl_follows_the_setting(ready: EnclaveCli) -> None:
    ready.env["ENCLAVE_TOKEN_MAX_TTL_SECONDS"] = "3600"
    _issue_args = ("tokens", "issue", "--tenant", "acme", "--roles", "app")
    assert "maximum of 1h" in ready.refused(*_issue_args, "--ttl", "61m")
    ready.ok(*_issue_args, "--ttl", "60m")


def test_issue_without_a_key_is_exit_2(cli: EnclaveCli) -> None:
    cli.ok("tenants", "create", "acme", "--department", "finance")
    message = cli.refused(
        "tokens", "issue", "--tenant", "acme", "--roles", "app", "--ttl", "1h", exit_code=2
    )
    assert "enclave keys rotate" in message


def test_issue_for_a_suspended_tenant_is_exit_1(ready: EnclaveCli) -> None:
    ready.ok("tenants", "suspend", "acme")
    assert "suspended" in ready.refused(
        "tokens", "issue", "--tenant", "acme", "--roles", "app", "--ttl", "1h"
    )


def test_list_never_prints_tokens_and_revoke_shows_in_status(ready: EnclaveCli) -> None:
    token = _issue(ready)
    [listed] = ready.json("tokens", "list")
    assert (listed["tenant"], listed["roles"], listed["status"]) == ("acme", ["app"], "active")
    table = ready.ok("tokens", "list").stdout
    assert listed["jti"] in table
    for output in (table, ready.ok("tokens", "list", "--json").stdout):
        assert token not in output
        assert token.split(".")[2] not in output
    first = ready.ok("tokens", "revoke", listed["jti"]).stdout
    assert "revoked at" in first
    assert "was already revoked" in ready.ok("tokens", "revoke", listed["jti"]).stdout
    [after] = ready.json("tokens", "list", "--tenant", "acme", "--all")
    assert after["status"] == "revoked"
    assert after["revoked_at"] is not None


def test_list_filters_and_unknowns(ready: EnclaveCli) -> None:
    assert "No unexpired tokens" in ready.ok("tokens", "list").stdout
    assert ready.refused("tokens", "list", "--tenant", "ghost") == (
        "enclave: tenant 'ghost' not found"
    )
    assert ready.refused("tokens", "revoke", "nope") == "enclave: token 'nope' not found"


def test_deleting_the_tenant_removes_its_tokens(ready: EnclaveCli) -> None:
    _issue(ready)
    assert ready.json("tenants", "show", "acme")["live_tokens"] == 1
    assert "1 token record(s)" in ready.ok("tenants", "delete", "acme", "--yes").stdout
    assert ready.json("tokens", "list", "--all") == []
