"""What the PII gate costs a request: prompt analysis, and the stream hold-back's delay.

    .venv/bin/python bench/pii_latency.py [--runs 200] [--token-interval-ms 10]

Uses the shipped policies (``policies/``): ``default`` (pattern types only: e-mail, phone,
card, IBAN...), ``engineering`` (adds a policy-defined EMPLOYEE_ID) and ``hr`` (names,
places and dates, which need spaCy's NER). Prints one table:

- analysis: ``redact_input`` on one prompt of 190 and 2,000 characters (normalization,
  the worker-thread hop, Presidio, redaction), p50 and p99;
- stream: a synthetic completion of 4-character tokens, one every ``--token-interval-ms``;
  the time to first token without the output filter, the time added by the filter's
  hold-back window (first visible text with the filter minus without), and the filter's
  own time per token (analysis included).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
from pii_stock import stock_presidio

from gateway.policy.loader import load_policy_set
from gateway.policy.schema import PiiPolicy, Policy
from gateway.redaction import OutputFilter, PiiAnalyzer, PseudonymTable

POLICIES = ("default", "engineering", "hr")
PROMPT_SENTENCE = (
    "Hi, this is Maria Gonzalez from the Madrid office. Please call me on +1 212-555-0123 "
    "or write to maria.gonzalez@example.com about invoice ORD-2024-000123 for v1.2.3. "
)
COMPLETION = (
    "Sure! Here is a short summary of the ticket. The customer asked for a refund of the "
    "last invoice because the upgrade to the new release failed twice on their servers, "
    "and they would like a call back this week to agree on the next steps."
)
TOKEN_CHARS = 4


def prompt_of(size: int) -> str:
    return (PROMPT_SENTENCE * (size // len(PROMPT_SENTENCE) + 1))[:size]


def percentiles(samples: Sequence[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def time_analysis(
    analyzer: PiiAnalyzer, pii: PiiPolicy, prompt: str, runs: int, *, messages: int = 1
) -> list[float]:
    """``redact_input`` on ``prompt``, cut into ``messages`` equal messages."""
    size = -(-len(prompt) // messages)
    conversation = [prompt[start : start + size] for start in range(0, len(prompt), size)]
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        await analyzer.redact_input(conversation, pii)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def time_stock_presidio(stock: Any, prompt: str, runs: int) -> list[float]:
    """Presidio as shipped: its default recognizers, all types, full spaCy pipeline."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        stock.analyze(prompt, language="en")
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def tokens(text: str, interval_s: float) -> AsyncIterator[str]:
    """The completion as an engine would stream it: a token now, then one per interval."""
    for start in range(0, len(text), TOKEN_CHARS):
        if start:
            await anyio.sleep(interval_s)
        yield text[start : start + TOKEN_CHARS]


async def first_text_ms(
    deltas: AsyncIterator[str], output: OutputFilter | None
) -> tuple[float, float, int]:
    """Milliseconds to the first visible text, milliseconds spent in the filter, tokens."""
    started, first, filter_s, count = time.perf_counter(), None, 0.0, 0
    async for delta in deltas:
        count += 1
        visible = delta
        if output is not None:
            entered = time.perf_counter()
            visible = await output.feed(delta)
            filter_s += time.perf_counter() - entered
        if visible and first is None:
            first = time.perf_counter()
    if output is not None:
        entered = time.perf_counter()
        await output.finish()
        filter_s += time.perf_counter() - entered
    end = first if first is not None else time.perf_counter()  # all held until finish
    return (end - started) * 1000, filter_s * 1000, count


async def time_stream(
    analyzer: PiiAnalyzer, pii: PiiPolicy | None, interval_s: float, runs: int
) -> tuple[list[float], list[float]]:
    """TTFT per run, and the filter's milliseconds per token per run."""
    ttfts, per_token = [], []
    for _ in range(runs):
        output = None if pii is None else analyzer.output_filter(pii, PseudonymTable())
        ttft, filter_ms, count = await first_text_ms(tokens(COMPLETION, interval_s), output)
        ttfts.append(ttft)
        per_token.append(filter_ms / count)
    return ttfts, per_token


def row(cells: Sequence[str]) -> str:
    widths = (44, 12, 12, 12, 12)
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))


async def run(runs: int, interval_ms: float) -> None:
    started = time.perf_counter()
    analyzer = await anyio.to_thread.run_sync(PiiAnalyzer.build)
    print(f"analyzer built in {time.perf_counter() - started:.1f} s\n")
    policies = load_policy_set(Path("policies")).policies
    large_runs = max(20, runs // 4)
    print(row(["analysis", "190 p50 ms", "190 p99 ms", "2000 p50 ms", "2000 p99 ms"]))
    presidio = stock_presidio()
    stock = [
        time_stock_presidio(presidio, prompt_of(n), r) for n, r in ((190, runs), (2000, large_runs))
    ]
    print(row(["  Presidio as shipped (reference)", *cells(stock[0], stock[1])]))
    for name, messages in [*((name, 1) for name in POLICIES), ("default", 4)]:
        pii = policies[name].pii
        small = await time_analysis(analyzer, pii, prompt_of(190), runs, messages=messages)
        large = await time_analysis(analyzer, pii, prompt_of(2000), large_runs, messages=messages)
        split = f", {messages} messages" if messages > 1 else ""
        print(row([f"  redact_input, policy {name}{split}", *cells(small, large)]))
    await print_stream_rows(analyzer, policies, runs, interval_ms)


def cells(small: Sequence[float], large: Sequence[float]) -> list[str]:
    return [f"{value:.2f}" for value in (*percentiles(small), *percentiles(large))]


async def print_stream_rows(
    analyzer: PiiAnalyzer, policies: Mapping[str, Policy], runs: int, interval_ms: float
) -> None:
    interval_s = interval_ms / 1000
    stream_runs = max(10, runs // 10)
    print(f"\nstream: {TOKEN_CHARS}-char tokens every {interval_ms:g} ms, {stream_runs} runs")
    print(row(["", "TTFT p50 ms", "TTFT p99 ms", "filter ms/tok", "held (tokens)"]))
    bare, _ = await time_stream(analyzer, None, interval_s, stream_runs)
    bare_p50, bare_p99 = percentiles(bare)
    print(row(["  no output filter", f"{bare_p50:.2f}", f"{bare_p99:.2f}", "-", "-"]))
    for name in POLICIES:
        pii = policies[name].pii
        ttfts, per_token = await time_stream(analyzer, pii, interval_s, stream_runs)
        p50, p99 = percentiles(ttfts)
        held = (p50 - bare_p50) / interval_ms
        label = f"  policy {name}: added"
        cells = [
            f"+{p50 - bare_p50:.2f}",
            f"+{p99 - bare_p99:.2f}",
            f"{statistics.median(per_token):.3f}",
        ]
        print(row([label, *cells, f"{held:.1f}"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="analyses per prompt size")
    parser.add_argument("--token-interval-ms", type=float, default=10.0)
    arguments = parser.parse_args()
    anyio.run(run, arguments.runs, arguments.token_interval_ms)


if __name__ == "__main__":
    main()
