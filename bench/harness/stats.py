"""Percentiles and per-run summaries, and medians of those summaries across rounds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, fields


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between closest ranks.

    The same definition as numpy's default (``method="linear"``): p50 of an even number
    of samples is the mean of the middle two, p100 is the maximum. NaN when empty.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    if not samples:
        return math.nan
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100
    below = math.floor(position)
    above = math.ceil(position)
    fraction = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * fraction


@dataclass(frozen=True, slots=True)
class RequestSample:
    """One request as the client saw it."""

    latency_s: float
    first_token_s: float | None
    """Time to the first content chunk (streams only)."""
    output_tokens: int
    ok: bool


@dataclass(frozen=True, slots=True)
class Summary:
    """One run of N requests at one concurrency: rates over its wall time, latencies in ms."""

    requests: int
    errors: int
    wall_s: float
    requests_per_s: float
    output_tokens_per_s: float
    p50_ms: float
    p99_ms: float
    ttft_p50_ms: float
    """NaN for non-streamed runs."""
    server_cpu_ms_per_request: float = math.nan
    """CPU time the system's own processes used, per request (NaN when not measured)."""
    client_cpu_ms_per_request: float = math.nan
    """CPU time the load generator used, per request."""


def summarize(
    samples: Sequence[RequestSample],
    wall_s: float,
    *,
    server_cpu_s: float = math.nan,
    client_cpu_s: float = math.nan,
) -> Summary:
    """Rates count every request sent; latencies only the ones that succeeded."""
    good = [sample for sample in samples if sample.ok]
    latencies = [sample.latency_s * 1000 for sample in good]
    first_tokens = [s.first_token_s * 1000 for s in good if s.first_token_s is not None]
    count = len(samples)
    return Summary(
        requests=count,
        errors=count - len(good),
        wall_s=wall_s,
        requests_per_s=len(good) / wall_s if wall_s > 0 else math.nan,
        output_tokens_per_s=sum(s.output_tokens for s in good) / wall_s if wall_s > 0 else math.nan,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        ttft_p50_ms=percentile(first_tokens, 50),
        server_cpu_ms_per_request=server_cpu_s * 1000 / count if count else math.nan,
        client_cpu_ms_per_request=client_cpu_s * 1000 / count if count else math.nan,
    )


def median_summary(rounds: Sequence[Summary]) -> Summary:
    """Field by field, the median over rounds (NaN fields stay NaN)."""
    if not rounds:
        raise ValueError("no rounds to take the median of")
    values: dict[str, float] = {}
    for field in fields(Summary):
        column = [float(getattr(summary, field.name)) for summary in rounds]
        present = [value for value in column if not math.isnan(value)]
        values[field.name] = statistics.median(present) if present else math.nan
    return Summary(
        requests=round(values.pop("requests")),
        errors=round(max(float(s.errors) for s in rounds)),
        **{name: value for name, value in values.items() if name != "errors"},
    )


def ratio(value: float, reference: float) -> float:
    """``value / reference``; NaN when the reference is zero or missing."""
    if reference == 0 or math.isnan(reference):
        return math.nan
    return value / reference
