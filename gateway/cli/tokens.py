"""``enclave tokens``: issue, list and revoke the bearer tokens Enclave signs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from gateway.cli.database import identity_session
from gateway.cli.output import iso, json_option, moment, print_fields, print_json, print_table
from gateway.identity.clock import utc_now
from gateway.identity.issuing import IssuedToken, issue_token
from gateway.identity.tokens import TokenInfo, find_token_state, list_tokens, revoke_token
from gateway.identity.ttl import format_ttl, parse_ttl
from gateway.identity.validation import parse_roles
from gateway.settings import load_settings


@click.group("tokens")
def tokens_group() -> None:
    """Bearer tokens (JWTs signed with Enclave's active key)."""


@tokens_group.command("issue")
@click.option("--tenant", required=True, help="tenant the token belongs to (must be active)")
@click.option("--roles", required=True, help="comma-separated: app, compliance, admin")
@click.option("--ttl", required=True, help="lifetime: 3600s, 30m, 8h, 7d")
@click.option("--subject", default=None, help="the token's 'sub' (default: the tenant's name)")
@click.option("--quiet", "-q", is_flag=True, help="print only the token")
@json_option
def issue_command(
    tenant: str, roles: str, ttl: str, subject: str | None, quiet: bool, as_json: bool
) -> None:
    """Issue a token; it is printed once and never stored."""
    settings = load_settings()
    ttl_seconds = parse_ttl(ttl)
    chosen_roles = parse_roles(roles)
    with identity_session(settings) as session:
        issued = issue_token(
            session,
            settings,
            tenant=tenant,
            roles=chosen_roles,
            ttl_seconds=ttl_seconds,
            subject=subject,
        )
    if quiet:
        click.echo(issued.token)
    elif as_json:
        print_json({"token": issued.token, **issued_json(issued)})
    else:
        _describe_issued(issued, ttl_seconds)


@tokens_group.command("list")
@click.option("--tenant", default=None, help="only this tenant's tokens")
@click.option("--all", "include_expired", is_flag=True, help="include expired tokens")
@json_option
def list_command(tenant: str | None, include_expired: bool, as_json: bool) -> None:
    """List issued tokens (never the tokens themselves); expired ones only with --all."""
    with identity_session(load_settings()) as session:
        tokens = list_tokens(session, tenant, include_expired)
    now = utc_now()
    if as_json:
        print_json([token_json(token, now) for token in tokens])
    elif not tokens:
        click.echo("No tokens." if include_expired else "No unexpired tokens (--all shows all).")
    else:
        headers = ["JTI", "TENANT", "SUBJECT", "ROLES", "EXPIRES", "STATUS"]
        print_table(headers, [_token_row(token, now) for token in tokens])


@tokens_group.command("revoke")
@click.argument("jti")
def revoke_command(jti: str) -> None:
    """Revoke the token JTI: the gateway refuses it from now on (safe to repeat)."""
    with identity_session(load_settings()) as session:
        before = find_token_state(session, jti)
        token = revoke_token(session, jti)
    already = before is not None and before.revoked_at is not None
    verb = "was already revoked" if already else "revoked"
    click.echo(f"Token {jti} (tenant {token.tenant}) {verb} at {moment(token.revoked_at)}.")


def token_json(token: TokenInfo, now: datetime) -> dict[str, Any]:
    return {
        "jti": token.jti,
        "tenant": token.tenant,
        "subject": token.subject,
        "roles": list(token.roles),
        "kid": token.kid,
        "issued_at": iso(token.issued_at),
        "expires_at": iso(token.expires_at),
        "revoked_at": iso(token.revoked_at),
        "status": token.lifecycle(now).value,
    }


def issued_json(issued: IssuedToken) -> dict[str, Any]:
    return {
        "jti": issued.jti,
        "tenant": issued.tenant,
        "department": issued.department,
        "subject": issued.subject,
        "roles": list(issued.roles),
        "kid": issued.kid,
        "issued_at": iso(issued.issued_at),
        "expires_at": iso(issued.expires_at),
    }


def _token_row(token: TokenInfo, now: datetime) -> list[str]:
    return [
        token.jti,
        token.tenant,
        token.subject,
        ",".join(token.roles),
        moment(token.expires_at),
        token.lifecycle(now).value,
    ]


def _describe_issued(issued: IssuedToken, ttl_seconds: int) -> None:
    click.echo(f"Issued a token for tenant {issued.tenant} (department {issued.department}):")
    print_fields(
        [
            ("  subject", issued.subject),
            ("  roles", ",".join(issued.roles)),
            ("  expires", f"{moment(issued.expires_at)} (in {format_ttl(ttl_seconds)})"),
            ("  jti", f"{issued.jti} (revoke with `enclave tokens revoke {issued.jti}`)"),
        ]
    )
    click.echo()
    click.echo(issued.token)
    click.echo()
    click.echo("Keep it secret: it is shown only this once (--quiet prints only the token).")
