"""How the CLI shows things: aligned tables for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def json_option(function: F) -> F:
    """The ``--json`` flag every listing and show command has (parameter ``as_json``)."""
    option = click.option("--json", "as_json", is_flag=True, help="print JSON (for scripts)")
    return option(function)


def print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False))


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    for line in (headers, *rows):
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


def print_fields(fields: Sequence[tuple[str, str]]) -> None:
    """``label: value`` lines with the values aligned."""
    width = max(len(label) for label, _ in fields) + 1
    for label, value in fields:
        click.echo(f"{label + ':':<{width}} {value}")


def moment(value: datetime | None) -> str:
    """A UTC time for tables: ``2025-11-25T03:32:10Z`` (``-`` for none)."""
    return "-" if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso(value: datetime | None) -> str | None:
    """A UTC time for JSON (ISO 8601), or null."""
    return None if value is None else value.isoformat()
