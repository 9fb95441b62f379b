"""Measure systems cell by cell, alternating their order, counting their CPU time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .load import Target, Workload, run_load
from .procstat import cpu_seconds, descendants, own_cpu_seconds
from .report import Cell, Measurement
from .servers import Server
from .stats import summarize
from .workloads import PROMPTS


@dataclass(frozen=True, slots=True)
class Plan:
    """Which cells to measure, and how many requests each."""

    concurrency: tuple[int, ...]
    prompts: tuple[str, ...]
    streams: tuple[bool, ...]
    min_requests: int
    requests_per_slot: int
    max_tokens: int

    def cells(self) -> list[Cell]:
        return [
            Cell(prompt, stream, concurrency)
            for concurrency in self.concurrency
            for prompt in self.prompts
            for stream in self.streams
        ]

    def requests(self, concurrency: int) -> int:
        """N = max(min_requests, requests_per_slot x C)."""
        return max(self.min_requests, self.requests_per_slot * concurrency)


@dataclass(frozen=True, slots=True)
class Contender:
    """A system as measured: where to send requests, and whose CPU time to count."""

    name: str
    target: Target
    servers: tuple[Server, ...]


def measure_cell(contender: Contender, cell: Cell, plan: Plan, round_number: int) -> Measurement:
    """One cell for one system; the prompts carry a tag unique to round and cell."""
    workload = Workload(
        prompts=PROMPTS[cell.prompt],
        max_tokens=plan.max_tokens,
        stream=cell.stream,
        tag=f"r{round_number}c{cell.concurrency}{cell.prompt[0]}{int(cell.stream)}",
    )
    pids = [pid for server in contender.servers for pid in descendants(server.pid)]
    server_before, client_before = cpu_seconds(pids), own_cpu_seconds()
    samples, wall = asyncio.run(
        run_load(contender.target, workload, cell.concurrency, plan.requests(cell.concurrency))
    )
    summary = summarize(
        samples,
        wall,
        server_cpu_s=cpu_seconds(pids) - server_before,
        client_cpu_s=own_cpu_seconds() - client_before,
    )
    return Measurement(contender.name, round_number, cell, summary)


def alternate(
    contenders: Sequence[Contender], plan: Plan, round_number: int
) -> Iterator[Measurement]:
    """Every cell for every contender; the contenders' order flips from one cell to the next."""
    for index, cell in enumerate(plan.cells()):
        order = contenders if index % 2 == 0 else list(reversed(contenders))
        for contender in order:
            measured = measure_cell(contender, cell, plan, round_number)
            summary = measured.summary
            print(
                f"  round {round_number} {contender.name:14} C={cell.concurrency:<3} "
                f"{cell.label:28} {summary.requests_per_s:8.1f} req/s "
                f"p50 {summary.p50_ms:8.1f} ms  errors {summary.errors}",
                flush=True,
            )
            yield measured


def csv_ints(text: str) -> tuple[int, ...]:
    return tuple(int(value) for value in text.split(","))


def csv_streams(text: str) -> tuple[bool, ...]:
    """``off,on`` → (False, True)."""
    values = text.split(",")
    unknown = set(values) - {"off", "on"}
    if unknown:
        raise ValueError(f"--streams takes off and/or on, not {sorted(unknown)}")
    return tuple(value == "on" for value in values)
