"""``enclave keys``: the Ed25519 keys Enclave signs its tokens with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from gateway.cli.database import identity_session
from gateway.cli.output import iso, json_option, moment, print_json, print_table
from gateway.identity.clock import utc_now
from gateway.identity.issuing import rotate_signing_key
from gateway.identity.keys import KeyInfo, active_key, find_key, list_keys
from gateway.settings import load_settings


@click.group("keys")
def keys_group() -> None:
    """Token signing keys (private halves in ENCLAVE_KEYS_DIR, 0600)."""


@keys_group.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """List signing keys: the active one, retired ones still verifying, expired ones."""
    with identity_session(load_settings()) as session:
        keys = list_keys(session)
    now = utc_now()
    if as_json:
        print_json([key_json(key, now) for key in keys])
    elif not keys:
        click.echo("No signing keys yet; create one with `enclave keys rotate`.")
    else:
        headers = ["KID", "ALGORITHM", "STATUS", "CREATED", "RETIRED", "VERIFIES UNTIL"]
        print_table(headers, [_key_row(key, now) for key in keys])


@keys_group.command("rotate")
@click.option("--if-missing", is_flag=True, help="only create a key if none is active")
@json_option
def rotate_command(if_missing: bool, as_json: bool) -> None:
    """Make a new active signing key; the previous one keeps verifying its tokens."""
    settings = load_settings()
    with identity_session(settings) as session:
        previous = active_key(session)
        kept = previous if if_missing else None
        key = kept or rotate_signing_key(session, settings)
        retired = find_key(session, previous.kid) if previous and not kept else None
    if as_json:
        print_json({**key_json(key, utc_now()), "created": kept is None})
    elif kept is not None:
        click.echo(f"Kept the active signing key {key.kid} (--if-missing).")
    else:
        click.echo(
            f"Created signing key {key.kid} ({key.algorithm}); new tokens are signed with it."
        )
        if retired is not None:
            click.echo(
                f"The previous key {retired.kid} verifies its tokens until "
                f"{moment(retired.verify_until)}."
            )


def key_json(key: KeyInfo, now: datetime) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "algorithm": key.algorithm,
        "status": key.lifecycle(now).value,
        "created_at": iso(key.created_at),
        "retired_at": iso(key.retired_at),
        "verify_until": iso(key.verify_until),
        "public_jwk": key.public_jwk,
    }


def _key_row(key: KeyInfo, now: datetime) -> list[str]:
    until = "-" if key.retired_at is None else moment(key.verify_until)
    return [
        key.kid,
        key.algorithm,
        key.lifecycle(now).value,
        moment(key.created_at),
        moment(key.retired_at),
        until,
    ]
