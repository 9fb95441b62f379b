"""Audit records as JSON objects (``--json``, JSON Lines), CSV rows and table cells.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, tab or carriage return) get a leading ``'``: redacted prompts are client text.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from typing import Any, Final, TextIO

from gateway.audit.canonical import HASHED_COLUMNS, canonical_json
from gateway.audit.query import AuditRecord

SUMMARY_HEADERS: Final = (
    "ID",
    "TIME",
    "KIND",
    "REQUEST",
    "TENANT",
    "SUBJECT",
    "DEPT",
    "MODEL",
    "STATUS",
    "ENTITIES",
)

CSV_COLUMNS: Final = ("id", *HASHED_COLUMNS, "hash")
"""Every stored column: the hashed ones between the row id and the hash."""
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
PROGRESS_EVERY: Final = 1000


def record_json(record: AuditRecord) -> dict[str, Any]:
    """Every field of ``record``; times in ISO 8601 UTC, lists and mappings as JSON values."""
    data = {name: getattr(record, name) for name in CSV_COLUMNS}
    data["occurred_at"] = record.occurred_at.isoformat()
    data["roles"] = list(record.roles)
    data["reasons"] = list(record.reasons)
    return data


def csv_row(record: AuditRecord) -> list[str]:
    data = record_json(record)
    data["roles"] = " ".join(record.roles)
    for name in ("reasons", "entity_counts", "detail"):
        value = data[name]
        data[name] = canonical_json(value) if value else ""
    return [_cell(data[name]) for name in CSV_COLUMNS]


def write_records(
    records: Iterable[AuditRecord],
    output: TextIO,
    file_format: str,
    progress: Callable[[int], None] = lambda _count: None,
) -> int:
    """Write ``records`` as ``jsonl`` or ``csv``; calls ``progress(n)`` as it goes; the count."""
    writer = csv.writer(output, lineterminator="\n") if file_format == "csv" else None
    if writer is not None:
        writer.writerow(CSV_COLUMNS)
    count = 0
    for record in records:
        if writer is not None:
            writer.writerow(csv_row(record))
        else:
            output.write(json.dumps(record_json(record), ensure_ascii=False) + "\n")
        count += 1
        if count % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    progress(count % PROGRESS_EVERY)
    return count


def summary_cells(record: AuditRecord) -> list[str]:
    """One line of a search table: id, time, kind, request, tenant, subject, department, ..."""
    entities = ",".join(f"{name}:{count}" for name, count in sorted(record.entity_counts.items()))
    return [
        str(record.id),
        record.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        record.kind,
        record.request_id or "-",
        record.tenant or "-",
        record.subject or "-",
        record.department or "-",
        record.model or "-",
        "-" if record.status is None else str(record.status),
        entities or "-",
    ]


def detail_fields(record: AuditRecord, content: str | None) -> list[tuple[str, str]]:
    """``(label, value)`` pairs of every non-empty field, ``content`` as it should be shown."""
    data = record_json(record)
    data["content"] = content
    fields = []
    for name, value in data.items():
        if value in (None, "", [], {}):
            continue
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        fields.append((name.replace("_", " "), text))
    return fields


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text
