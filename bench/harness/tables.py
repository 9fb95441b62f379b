"""The printed tables: per workload, every system at every concurrency, and the targets."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from .report import Cell, Measurement, comparison_rows, markdown_table, medians, number, times
from .stats import Summary, ratio

Column = tuple[str, Callable[[Summary], str]]
E2E_COLUMNS: tuple[Column, ...] = (
    ("req/s", lambda s: number(s.requests_per_s, 2)),
    ("out tok/s", lambda s: number(s.output_tokens_per_s, 0)),
    ("p50 ms", lambda s: number(s.p50_ms)),
    ("p99 ms", lambda s: number(s.p99_ms)),
    ("TTFT p50 ms", lambda s: number(s.ttft_p50_ms)),
    ("server CPU ms/req", lambda s: number(s.server_cpu_ms_per_request)),
    ("errors", lambda s: str(s.errors)),
)
REFERENCE = "vllm"


def _workloads(measurements: Sequence[Measurement]) -> list[tuple[str, bool]]:
    found = {(m.cell.prompt, m.cell.stream) for m in measurements}
    return sorted(found, key=lambda key: (key[0] != "short", key[1]))


def print_e2e_tables(
    measurements: Sequence[Measurement], systems: Sequence[str], max_tokens: int
) -> None:
    table = medians(measurements)
    concurrencies = sorted({m.cell.concurrency for m in measurements})
    rounds = len({m.round for m in measurements})
    headers = ["C", "system", *(name for name, _ in E2E_COLUMNS), "Δp50 vs vllm ms", "x vllm"]
    for prompt, stream in _workloads(measurements):
        rows = []
        for concurrency in concurrencies:
            cell = Cell(prompt, stream, concurrency)
            base = table.get((REFERENCE, cell))
            for row in comparison_rows(table, systems, cell, REFERENCE, E2E_COLUMNS):
                summary = table[(row[0], cell)]
                delta = summary.p50_ms - base.p50_ms if base else math.nan
                rows.append([str(concurrency), *row[:-1], f"{delta:+.1f}", row[-1]])
        label = Cell(prompt, stream, 0).label
        print(f"\n### {label}, max_tokens {max_tokens} (median of {rounds} rounds)\n")
        print(markdown_table(headers, rows))
    print_e2e_targets(table, concurrencies, _workloads(measurements))


def print_e2e_targets(
    table: dict[tuple[str, Cell], Summary],
    concurrencies: Sequence[int],
    workloads: Sequence[tuple[str, bool]],
) -> None:
    """The issue's targets: enclave >= 1.0x vllm and >= 1.5x litellm in throughput (at the
    highest concurrency); p50 within 2 ms of vllm, enclave+pii within 10 ms of enclave (C=1)."""
    top, low = max(concurrencies), min(concurrencies)
    rows = []
    for prompt, stream in workloads:
        high, single = Cell(prompt, stream, top), Cell(prompt, stream, low)
        rows.append(
            [
                high.label,
                _throughput_check(table, high, "vllm", 1.0),
                _throughput_check(table, high, "litellm", 1.5),
                _latency_check(table, single, "enclave", "vllm", 2.0),
                _latency_check(table, single, "enclave+pii", "enclave", 10.0),
            ]
        )
    headers = [
        "workload",
        f"enclave >= 1.0x vllm req/s (C={top})",
        f"enclave >= 1.5x litellm req/s (C={top})",
        f"enclave p50 - vllm p50 <= 2 ms (C={low})",
        f"enclave+pii p50 - enclave p50 <= 10 ms (C={low})",
    ]
    print("\n### Targets\n")
    print(markdown_table(headers, rows))


def _throughput_check(
    table: dict[tuple[str, Cell], Summary], cell: Cell, peer: str, wanted: float
) -> str:
    ours, theirs = table.get(("enclave", cell)), table.get((peer, cell))
    if ours is None or theirs is None:
        return "-"
    value = ratio(ours.requests_per_s, theirs.requests_per_s)
    return f"{times(value)} {'met' if value >= wanted else 'MISSED'}"


def _latency_check(
    table: dict[tuple[str, Cell], Summary], cell: Cell, system: str, peer: str, budget: float
) -> str:
    ours, theirs = table.get((system, cell)), table.get((peer, cell))
    if ours is None or theirs is None:
        return "-"
    delta = ours.p50_ms - theirs.p50_ms
    return f"{delta:+.1f} ms {'met' if delta <= budget else 'MISSED'}"
