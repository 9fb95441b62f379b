"""Shared pieces of the side-by-side benchmarks: servers, load, statistics, tables, plots."""
