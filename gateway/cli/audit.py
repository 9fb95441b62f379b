"""``enclave audit``: search, show, export, verify and purge the audit trail; create its keys."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from gateway.audit.anchor import FileAnchor
from gateway.audit.config import DEFAULT_CONTENT_KEY_FILE, load_audit_config
from gateway.audit.content import ContentUnreadableError, open_content
from gateway.audit.export import (
    SUMMARY_HEADERS,
    detail_fields,
    record_json,
    summary_cells,
    write_records,
)
from gateway.audit.keys import (
    create_content_key,
    create_signing_key,
    load_content_key,
    load_signer,
    trusted_public_keys,
)
from gateway.audit.purge import PurgePlan, apply_purge, plan_purge
from gateway.audit.query import (
    AuditFilters,
    AuditRecord,
    count_events,
    get_event,
    iter_events,
    request_events,
    search_events,
)
from gateway.audit.verify import TrailReport, VerifyOptions, report_json, verify_trail
from gateway.audit.walk import ChainReport
from gateway.cli.database import identity_session, reported_database_errors
from gateway.cli.output import json_option, moment, print_fields, print_json, print_table
from gateway.db.session import create_db_engine, require_current_schema
from gateway.identity.clock import utc_now
from gateway.policy.loader import load_policy_set
from gateway.settings import load_settings


class UtcMoment(click.ParamType[datetime, Any]):
    """``2025-11-25`` (midnight UTC) or an ISO 8601 time (UTC unless it has an offset)."""

    name = "DATE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date (2025-11-25) or ISO time", param, ctx)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


MOMENT = UtcMoment()
DECISIONS = click.Choice(["allowed", "refused"])
KINDS = click.Choice(
    ["opened", "started", "completed", "failed", "refused", "incomplete", "tombstone"]
)


def filter_options(function: Any) -> Any:
    """The search/export filters (parameters collected by ``filters_from``)."""
    options = [
        click.option("--tenant"),
        click.option("--department"),
        click.option("--subject"),
        click.option("--since", type=MOMENT, help="from this time (inclusive)"),
        click.option("--until", type=MOMENT, help="up to this time (exclusive)"),
        click.option("--decision", type=DECISIONS),
        click.option("--entity-type", help="personal data of this type was found (EMAIL_ADDRESS)"),
        click.option("--status", type=int, help="HTTP status of the response"),
        click.option("--kind", "kinds", type=KINDS, multiple=True, help="record kind (repeatable)"),
        click.option("--request-id"),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def filters_from(params: dict[str, Any]) -> AuditFilters:
    names = (
        "tenant",
        "department",
        "subject",
        "since",
        "until",
        "decision",
        "entity_type",
        "status",
    )
    values = {name: params[name] for name in names}
    return AuditFilters(**values, kinds=tuple(params["kinds"]), request_id=params["request_id"])


@click.group("audit")
def audit_group() -> None:
    """The audit trail: every request's record, hash-chained and signed."""


@audit_group.command("search")
@filter_options
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--cursor", type=int, help="continue after a previous page (its next cursor)")
@json_option
def search_command(limit: int, cursor: int | None, as_json: bool, **params: Any) -> None:
    """Find records, newest first."""
    with identity_session(load_settings()) as session:
        page = search_events(session, filters_from(params), limit=limit, cursor=cursor)
    if as_json:
        print_json(
            {"records": [record_json(r) for r in page.records], "next_cursor": page.next_cursor}
        )
        return
    if not page.records:
        click.echo("No matching audit records.")
        return
    print_table(SUMMARY_HEADERS, [summary_cells(record) for record in page.records])
    if page.next_cursor is not None:
        click.echo(f"(more: --cursor {page.next_cursor})", err=True)


@audit_group.command("show")
@click.argument("event_id", metavar="ID", type=int)
@click.option("--decrypt", is_flag=True, help="open full content with the configured content key")
@json_option
def show_command(event_id: int, decrypt: bool, as_json: bool) -> None:
    """Show one record and the other records of its request."""
    with identity_session(load_settings()) as session:
        record = get_event(session, event_id)
        timeline = request_events(session, record.request_id) if record.request_id else (record,)
    content = _content_text(record, decrypt)
    if as_json:
        others = [
            {"id": r.id, "kind": r.kind, "occurred_at": r.occurred_at.isoformat()} for r in timeline
        ]
        print_json({**record_json(record), "content": content, "request_records": others})
        return
    print_fields(detail_fields(record, content))
    if len(timeline) > 1:
        click.echo("request records: " + ", ".join(f"{r.id} {r.kind}" for r in timeline))


@audit_group.command("export")
@click.option("--format", "file_format", type=click.Choice(["jsonl", "csv"]), required=True)
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="file (default stdout)"
)
@filter_options
def export_command(file_format: str, output: Path | None, **params: Any) -> None:
    """Write matching records, oldest first, streaming (progress on stderr)."""
    filters = filters_from(params)
    with identity_session(load_settings()) as session:
        total = count_events(session, filters)
        stderr = sys.stderr
        with (
            _opened(output) as stream,
            click.progressbar(length=total, label="exporting", file=stderr) as bar,
        ):
            written = write_records(iter_events(session, filters), stream, file_format, bar.update)
    click.echo(f"Exported {written} audit record(s) to {output or 'stdout'}.", err=True)


@audit_group.command("verify")
@click.option(
    "--public-key",
    "public_key_files",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    help="also trust this Ed25519 public key (PEM; repeatable)",
)
@click.option(
    "--anchor",
    "anchor_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="the anchor to cross-check against (default ENCLAVE_AUDIT_ANCHOR_FILE)",
)
@json_option
def verify_command(
    public_key_files: tuple[Path, ...], anchor_file: Path | None, as_json: bool
) -> None:
    """Re-hash every chain, check signatures and links, compare with the anchor; exit 1 on
    any problem (records not covered by a signature included)."""
    config = load_audit_config()
    keys = trusted_public_keys(config.signing_key_file, public_key_files)
    anchor_path = anchor_file or config.anchor_path
    if not anchor_path.is_file():
        click.echo(f"anchor {anchor_path} is missing: no chain can be confirmed", err=True)
    options = VerifyOptions(
        anchor=FileAnchor(anchor_path),
        unsigned_tail_max=timedelta(seconds=config.unsigned_tail_max_seconds),
        stale_after=timedelta(seconds=config.stale_after_seconds),
    )
    with _audit_engine() as engine:
        report = verify_trail(engine, keys, options)
    if as_json:
        print_json(report_json(report))
    else:
        _print_report(report)
    if not report.ok:
        sys.exit(1)


@audit_group.command("purge")
@click.option("--before", type=MOMENT, required=True, help="remove records older than this")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@click.option("--dry-run", is_flag=True, help="only say what would be removed")
def purge_command(before: datetime, yes: bool, dry_run: bool) -> None:
    """Remove records older than --before and past their department's retention."""
    settings, config = load_settings(), load_audit_config()
    policies = load_policy_set(settings.policies_dir)

    def retention(department: str | None) -> timedelta:
        policy = policies.policy_for(department or "default")
        return timedelta(days=policy.audit.retention_days)

    signer = None if dry_run else load_signer(config.signing_key_file)
    with _audit_engine() as engine:
        with engine.connect() as connection:
            plan = plan_purge(connection, before, retention, utc_now())
        click.echo(_plan_summary(plan))
        if dry_run or not plan.chains or signer is None:
            return
        if not yes:
            click.confirm(f"Remove {plan.records} audit record(s)?", abort=True, err=True)
        removed = apply_purge(engine, signer, plan, config=config, clock=utc_now)
    click.echo(f"Removed {removed} record(s); signed tombstones keep the chains verifiable.")


@audit_group.command("init-key")
@click.option("--content", is_flag=True, help="create the content encryption key instead")
@click.option(
    "--rotate", is_flag=True, help="replace the signing key (old public key stays trusted)"
)
@click.option("--if-missing", is_flag=True, help="succeed without change when the key exists")
def init_key_command(content: bool, rotate: bool, if_missing: bool) -> None:
    """Create the checkpoint signing key (or, with --content, the content key), mode 0600."""
    config = load_audit_config()
    content_file = config.content_key_file or DEFAULT_CONTENT_KEY_FILE
    path = content_file if content else config.signing_key_file
    if if_missing and path.exists() and not rotate:
        click.echo(f"Kept the existing key {path}.")
        return
    if content:
        create_content_key(path)
        click.echo(f"Created the audit content key {path} (0600); back it up: old records need it.")
        return
    key_id = create_signing_key(path, replace=rotate)
    click.echo(
        f"Created audit signing key {key_id} in {path} (0600); public key {key_id}.pub beside it."
    )


@contextmanager
def _audit_engine() -> Iterator[Engine]:
    url = load_settings().database_url
    engine = create_db_engine(url)
    try:
        with reported_database_errors(url):
            require_current_schema(engine)
            yield engine
    finally:
        engine.dispose()


@contextmanager
def _opened(output: Path | None) -> Iterator[Any]:
    if output is None:
        yield sys.stdout
        return
    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with open(descriptor, "w", encoding="utf-8", newline="") as stream:
        yield stream


def _content_text(record: AuditRecord, decrypt: bool) -> str | None:
    if record.content_level != "full" or record.content is None or not decrypt:
        return record.content
    key = load_content_key(load_audit_config())
    if key is None:
        raise click.UsageError("no content key configured (ENCLAVE_AUDIT_CONTENT_KEY_FILE)")
    try:
        return open_content(record.content, key, record.request_id)
    except ContentUnreadableError as exc:
        return f"(cannot open: {exc})"


def _plan_summary(plan: PurgePlan) -> str:
    text = f"{plan.records} record(s) in {len(plan.chains)} chain(s) can be removed"
    text += f" (older than {moment(plan.before)})"
    if plan.kept_by_retention:
        text += f"; {plan.kept_by_retention} chain(s) kept back by department retention"
    return text + "."


def _unsigned(chain: ChainReport) -> str:
    if not chain.unsigned:
        return "0"
    age = chain.unsigned_age_seconds
    return f"{chain.unsigned} ({age:.0f} s)" if age is not None else str(chain.unsigned)


def _print_report(report: TrailReport) -> None:
    rows = []
    for chain in report.chains:
        span = "-" if chain.first_seq is None else f"{chain.first_seq}-{chain.last_seq}"
        signed = "-" if chain.signed_through is None else str(chain.signed_through)
        state = "-" if chain.problem else ("closed" if chain.closed else "open")
        verdict = "ok" if chain.problem is None else chain.problem.kind.upper()
        rows.append(
            [chain.chain_id, str(chain.records), span, signed, _unsigned(chain), state, verdict]
        )
    if rows:
        headers = ["CHAIN", "RECORDS", "SEQ", "SIGNED THROUGH", "UNSIGNED", "STATE", "RESULT"]
        print_table(headers, rows)
    for chain in report.chains:
        if chain.problem is not None:
            click.echo(f"chain {chain.chain_id}: {chain.problem.kind}: {chain.problem.message}")
    if report.anchor is not None:
        click.echo(f"anchor: {report.anchor}")
    if report.anchor_damage:
        lines = ", ".join(report.anchor_damage[:10])
        click.echo(f"anchor: line(s) {lines} hold no signed statement (damaged anchor)")
    problems = sum(chain.problem is not None for chain in report.chains)
    verdict = "intact" if report.ok else f"{problems} chain(s) with problems"
    click.echo(f"{report.records} record(s) in {len(report.chains)} chain(s): {verdict}.")
