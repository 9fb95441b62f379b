"""Results as records, medians across rounds, and Markdown tables of them."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .stats import Summary, median_summary, ratio

RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"


@dataclass(frozen=True, slots=True)
class Cell:
    """One workload point: prompt size, streaming, concurrency."""

    prompt: str
    stream: bool
    concurrency: int

    @property
    def label(self) -> str:
        return f"{self.prompt} prompt, {'stream' if self.stream else 'non-stream'}"


@dataclass(frozen=True, slots=True)
class Measurement:
    system: str
    round: int
    cell: Cell
    summary: Summary


def medians(measurements: Iterable[Measurement]) -> dict[tuple[str, Cell], Summary]:
    """(system, cell) → the median summary over its rounds."""
    grouped: dict[tuple[str, Cell], list[Summary]] = {}
    for item in measurements:
        grouped.setdefault((item.system, item.cell), []).append(item.summary)
    return {key: median_summary(rounds) for key, rounds in grouped.items()}


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def number(value: float, digits: int = 1) -> str:
    return "-" if math.isnan(value) else f"{value:,.{digits}f}"


def times(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}x"


def comparison_rows(
    table: dict[tuple[str, Cell], Summary],
    systems: Sequence[str],
    cell: Cell,
    reference: str,
    columns: Sequence[tuple[str, Callable[[Summary], str]]],
) -> list[list[str]]:
    """One row per system at ``cell``: the columns asked for, then throughput ratios."""
    base = table.get((reference, cell))
    rows = []
    for system in systems:
        summary = table.get((system, cell))
        if summary is None:
            continue
        row = [system, *(render(summary) for _, render in columns)]
        if base is not None:
            row.append(times(ratio(summary.requests_per_s, base.requests_per_s)))
        rows.append(row)
    return rows


def save_results(name: str, meta: dict[str, object], measurements: Sequence[Measurement]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    records = [asdict(item) for item in measurements]
    path.write_text(json.dumps({"meta": meta, "measurements": records}, indent=1) + "\n")
    return path


def load_results(name: str) -> tuple[dict[str, object], list[Measurement]] | None:
    path = RESULTS_DIR / f"{name}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    items = [
        Measurement(
            system=record["system"],
            round=record["round"],
            cell=Cell(**record["cell"]),
            summary=Summary(**record["summary"]),
        )
        for record in data["measurements"]
    ]
    return data["meta"], items
