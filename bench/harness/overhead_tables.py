"""The gateway-overhead tables: added latency, the requests/s ceiling, CPU and memory."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from .report import Cell, Measurement, markdown_table, medians, number, times
from .stats import Summary, ratio

REFERENCE = "direct"


def _workloads(measurements: Sequence[Measurement]) -> list[tuple[str, bool]]:
    found = {(m.cell.prompt, m.cell.stream) for m in measurements}
    return sorted(found, key=lambda key: (key[0] != "short", key[1]))


def _added(value: float, reference: Summary | None, field: str) -> str:
    if reference is None:
        return "-"
    return f"{value - getattr(reference, field):+.2f}"


def _row(
    concurrency: int, system: str, summary: Summary, base: Summary | None, peer: Summary | None
) -> list[str]:
    return [
        str(concurrency),
        system,
        number(summary.requests_per_s, 0),
        number(summary.p50_ms, 2),
        number(summary.p99_ms, 2),
        _added(summary.p50_ms, base, "p50_ms"),
        _added(summary.p99_ms, base, "p99_ms"),
        number(summary.ttft_p50_ms, 2),
        number(summary.server_cpu_ms_per_request, 2),
        number(summary.client_cpu_ms_per_request, 2),
        times(ratio(summary.requests_per_s, peer.requests_per_s)) if peer else "-",
        str(summary.errors),
    ]


def print_overhead_tables(
    measurements: Sequence[Measurement],
    systems: Sequence[str],
    memory: Mapping[str, Mapping[str, float]],
) -> None:
    table = medians(measurements)
    concurrencies = sorted({m.cell.concurrency for m in measurements})
    rounds = len({m.round for m in measurements})
    headers = [
        "C",
        "system",
        "req/s",
        "p50 ms",
        "p99 ms",
        "added p50 ms",
        "added p99 ms",
        "TTFT p50 ms",
        "server CPU ms/req",
        "client CPU ms/req",
        "x litellm req/s",
        "errors",
    ]
    for prompt, stream in _workloads(measurements):
        rows = []
        for concurrency in concurrencies:
            cell = Cell(prompt, stream, concurrency)
            base, peer = table.get((REFERENCE, cell)), table.get(("litellm", cell))
            for system in systems:
                summary = table.get((system, cell))
                if summary is not None:
                    rows.append(_row(concurrency, system, summary, base, peer))
        print(f"\n### {Cell(prompt, stream, 0).label} (median of {rounds} rounds)\n")
        print(markdown_table(headers, rows))
    print_memory(memory)


def print_memory(memory: Mapping[str, Mapping[str, float]]) -> None:
    """Resident memory of each server process (no engine anywhere)."""
    rows = [
        [
            name,
            number(values["idle_mib"], 0),
            number(values["peak_mib"], 0),
            number(values["peak_mib"] - values["idle_mib"], 0)
            if not math.isnan(values["peak_mib"])
            else "-",
        ]
        for name, values in memory.items()
    ]
    print("\n### Resident memory (VmRSS of the server process, MiB)\n")
    print(markdown_table(["server", "idle", "peak under load", "growth"], rows))
