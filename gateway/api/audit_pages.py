"""The compliance web pages as HTML text: every shown value goes through ``html.escape``."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlencode

from gateway.api.audit_views import shown_content
from gateway.audit.query import AuditRecord

SEARCH_FIELDS: Final = (
    ("department", "Department", "text"),
    ("subject", "Subject", "text"),
    ("decision", "Decision (allowed, refused)", "text"),
    ("entity_type", "Entity type (EMAIL_ADDRESS)", "text"),
    ("status", "HTTP status", "text"),
    ("since", "Since (2025-11-25 or ISO time, UTC)", "text"),
    ("until", "Until (exclusive)", "text"),
)
RESULT_COLUMNS: Final = (
    "Id",
    "Time",
    "Kind",
    "Decision",
    "Status",
    "Department",
    "Subject",
    "Model",
)
STYLE: Final = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
    ".problem{color:#a00}.ok{color:#070}label{display:inline-block;margin:.2em 1em .2em 0}"
)


def escape(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def search_page(
    query: Mapping[str, str],
    records: Sequence[AuditRecord],
    next_cursor: int | None,
    verification: str,
) -> str:
    """The search form (refilled from ``query``), the verification line and the results."""
    fields = "".join(
        f'<label>{escape(label)} <input type="{kind}" name="{name}" '
        f'value="{escape(query.get(name, ""))}"></label>'
        for name, label, kind in SEARCH_FIELDS
    )
    form = f'<form method="get" action="/audit/ui">{fields}<button>Search</button></form>'
    body = f"{verification}{form}{_results_table(records)}{_next_link(query, next_cursor)}"
    return _document("Audit trail", body)


def event_page(record: AuditRecord) -> str:
    rows = "".join(
        f"<tr><th>{escape(name)}</th><td>{escape(value)}</td></tr>"
        for name, value in _record_facts(record)
    )
    body = f'<p><a href="/audit/ui">Back to search</a></p><table>{rows}</table>'
    return _document(f"Audit record {record.id}", body)


def login_page(error: str | None = None) -> str:
    message = f'<p class="problem">{escape(error)}</p>' if error else ""
    form = (
        '<form method="post" action="/audit/ui/login">'
        '<label>Compliance token <input type="password" name="token" autocomplete="off">'
        "</label><button>Sign in</button></form>"
    )
    return _document("Audit trail: sign in", message + form)


def verification_line(report: Mapping[str, Any] | None, failure: str | None = None) -> str:
    """One line from the tenant's share of the incremental verification: fine, failed, or
    why it could not run (other tenants' counts and chain ids are never shown)."""
    if report is None:
        return f'<p class="problem">Verification unavailable: {escape(failure)}</p>'
    when = escape(report["verified_at"] or "-")
    if report["ok"]:
        return (
            f'<p class="ok">Trail verified: {escape(report["records"])} records of your tenant '
            f"covered by signed checkpoints, {escape(report['unsigned'])} awaiting the next "
            f"one; no problem found (checked {when}).</p>"
        )
    row = report["row_id"]
    own = "" if row is None else f" Your record {escape(row)} is affected."
    return (
        f'<p class="problem">Verification FAILED (checked {when}): '
        f"{escape(report['problem'])}.{own}</p>"
    )


def _results_table(records: Sequence[AuditRecord]) -> str:
    if not records:
        return "<p>No matching records.</p>"
    header = "".join(f"<th>{escape(column)}</th>" for column in RESULT_COLUMNS)
    rows = "".join(_result_row(record) for record in records)
    return f"<table><tr>{header}</tr>{rows}</table>"


def _result_row(record: AuditRecord) -> str:
    link = f'<a href="/audit/ui/events/{int(record.id)}">{int(record.id)}</a>'
    cells = (
        record.occurred_at.isoformat(),
        record.kind,
        record.decision,
        record.status,
        record.department,
        record.subject,
        record.model,
    )
    return f"<tr><td>{link}</td>" + "".join(f"<td>{escape(cell)}</td>" for cell in cells) + "</tr>"


def _next_link(query: Mapping[str, str], next_cursor: int | None) -> str:
    if next_cursor is None:
        return ""
    kept = {name: value for name, value in query.items() if value and name != "cursor"}
    href = "/audit/ui?" + urlencode({**kept, "cursor": next_cursor})
    return f'<p><a href="{escape(href)}">Older records</a></p>'


def _record_facts(record: AuditRecord) -> list[tuple[str, object]]:
    content = shown_content(record)
    if content is None:
        content = {"full": "(encrypted; not shown)", "none": "(not kept)"}.get(
            record.content_level, "(not shown)"
        )
    return [
        ("Id", record.id),
        ("Time", record.occurred_at.isoformat()),
        ("Kind", record.kind),
        ("Request id", record.request_id),
        ("Tenant", record.tenant),
        ("Department", record.department),
        ("Subject", record.subject),
        ("Roles", " ".join(record.roles)),
        ("Client address", record.client_address),
        ("Route", record.route),
        ("Model", record.model),
        ("Decision", record.decision),
        ("Reasons", ", ".join(record.reasons)),
        ("Status", record.status),
        ("Personal data found", ", ".join(f"{k}: {v}" for k, v in record.entity_counts.items())),
        ("Prompt tokens", record.prompt_tokens),
        ("Completion tokens", record.completion_tokens),
        ("Gateway time (µs)", record.gateway_us),
        ("Engine time (µs)", record.engine_us),
        ("Content level", record.content_level),
        ("Content", content),
        ("Chain", f"{record.chain_id} #{record.seq}"),
        ("Hash", record.hash),
    ]


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
