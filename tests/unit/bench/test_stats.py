"""The benchmark statistics: percentiles as numpy defines them, medians across rounds."""

from __future__ import annotations

import math

import pytest

from bench.harness.stats import RequestSample, median_summary, percentile, summarize


def test_median_of_an_even_count_is_the_mean_of_the_middle_two() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5


def test_p99_interpolates_between_the_two_largest_samples() -> None:
    samples = [float(value) for value in range(1, 101)]  # 1..100
    assert percentile(samples, 99) == pytest.approx(99.01)  # numpy.percentile(..., 99)
    assert percentile(samples, 100) == 100.0
    assert percentile(samples, 0) == 1.0


def test_a_single_sample_is_every_percentile() -> None:
    assert percentile([7.0], 50) == percentile([7.0], 99) == 7.0


def test_no_samples_give_nan_and_out_of_range_is_refused() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1.0], 101)


def test_failed_requests_count_as_errors_not_as_latency() -> None:
    samples = [
        RequestSample(latency_s=0.010, first_token_s=None, output_tokens=32, ok=True),
        RequestSample(latency_s=0.030, first_token_s=None, output_tokens=32, ok=True),
        RequestSample(latency_s=5.000, first_token_s=None, output_tokens=0, ok=False),
    ]
    summary = summarize(samples, wall_s=2.0)
    assert (summary.requests, summary.errors) == (3, 1)
    assert summary.requests_per_s == 1.0
    assert summary.output_tokens_per_s == 32.0
    assert summary.p50_ms == pytest.approx(20.0)
    assert math.isnan(summary.ttft_p50_ms)


def test_rounds_combine_field_by_field_and_keep_the_worst_error_count() -> None:
    rounds = [
        summarize([RequestSample(latency_s, 0.001, 10, True)], wall_s=wall)
        for latency_s, wall in ((0.010, 1.0), (0.020, 2.0), (0.900, 4.0))
    ]
    failing = summarize([RequestSample(0.01, None, 0, False)], wall_s=1.0)
    combined = median_summary([*rounds, failing])
    assert combined.p50_ms == pytest.approx(20.0)  # the failing round has none: 10, 20, 900
    assert combined.requests_per_s == pytest.approx(0.375)  # median of 1, 0.5, 0.25, 0
    assert combined.errors == 1
