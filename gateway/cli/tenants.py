"""``enclave tenants``: create, list, show, suspend, resume and delete tenants."""

from __future__ import annotations

from typing import Any

import click

from gateway.cli.database import identity_session
from gateway.cli.output import iso, json_option, moment, print_fields, print_json, print_table
from gateway.errors import ConflictError
from gateway.identity.tenants import (
    TenantInfo,
    TenantStatus,
    create_tenant,
    delete_tenant,
    find_tenant,
    get_tenant,
    list_tenants,
    set_tenant_status,
)
from gateway.identity.tokens import count_live_tokens
from gateway.settings import load_settings


@click.group("tenants")
def tenants_group() -> None:
    """Tenants: who may hold tokens, and in which department."""


@tenants_group.command("create")
@click.argument("name")
@click.option("--department", required=True, help="department (its policy applies)")
@click.option("--if-missing", is_flag=True, help="succeed if the tenant exists in that department")
@json_option
def create_command(name: str, department: str, if_missing: bool, as_json: bool) -> None:
    """Create the tenant NAME (lower-case letters, digits and '-')."""
    with identity_session(load_settings()) as session:
        existing = find_tenant(session, name) if if_missing else None
        if existing is not None and existing.department != department:
            raise ConflictError(
                f"tenant {name!r} exists in department {existing.department!r}, not {department!r}"
            )
        tenant = existing or create_tenant(session, name, department)
    if as_json:
        print_json(tenant_json(tenant))
    elif existing is not None:
        click.echo(f"Tenant {name} already exists (department {department}); kept.")
    else:
        click.echo(f"Created tenant {name} (department {department}).")


@tenants_group.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """List every tenant."""
    with identity_session(load_settings()) as session:
        tenants = list_tenants(session)
    if as_json:
        print_json([tenant_json(tenant) for tenant in tenants])
    elif not tenants:
        click.echo("No tenants yet; create one with `enclave tenants create NAME --department D`.")
    else:
        rows = [[t.name, t.department, t.status.value, moment(t.created_at)] for t in tenants]
        print_table(["NAME", "DEPARTMENT", "STATUS", "CREATED"], rows)


@tenants_group.command("show")
@click.argument("name")
@json_option
def show_command(name: str, as_json: bool) -> None:
    """Show one tenant and how many live tokens it holds."""
    with identity_session(load_settings()) as session:
        tenant = get_tenant(session, name)
        live = count_live_tokens(session, name)
    if as_json:
        print_json({**tenant_json(tenant), "live_tokens": live})
        return
    print_fields(
        [
            ("name", tenant.name),
            ("department", tenant.department),
            ("status", tenant.status.value),
            ("live tokens", str(live)),
            ("created", moment(tenant.created_at)),
            ("updated", moment(tenant.updated_at)),
        ]
    )


@tenants_group.command("suspend")
@click.argument("name")
def suspend_command(name: str) -> None:
    """Refuse the tenant's tokens until it is resumed."""
    with identity_session(load_settings()) as session:
        set_tenant_status(session, name, TenantStatus.SUSPENDED)
    click.echo(
        f"Tenant {name} is suspended: its tokens are refused until `enclave tenants resume`."
    )


@tenants_group.command("resume")
@click.argument("name")
def resume_command(name: str) -> None:
    """Accept the tenant's (unrevoked, unexpired) tokens again."""
    with identity_session(load_settings()) as session:
        set_tenant_status(session, name, TenantStatus.ACTIVE)
    click.echo(f"Tenant {name} is active.")


@tenants_group.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
def delete_command(name: str, yes: bool) -> None:
    """Delete the tenant and its token records: its tokens stop working at once."""
    with identity_session(load_settings()) as session:
        if not yes:
            live = count_live_tokens(session, name)
            click.confirm(
                f"Delete tenant {name}? Its {live} live token(s) stop working at once.",
                abort=True,
                err=True,
            )
        deleted = delete_tenant(session, name)
    click.echo(f"Deleted tenant {name} and {deleted.tokens_removed} token record(s).")


def tenant_json(tenant: TenantInfo) -> dict[str, Any]:
    return {
        "name": tenant.name,
        "department": tenant.department,
        "status": tenant.status.value,
        "created_at": iso(tenant.created_at),
        "updated_at": iso(tenant.updated_at),
    }
