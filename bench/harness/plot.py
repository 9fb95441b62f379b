"""Throughput versus concurrency per system, from the saved results (PNG, matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.ticker import ScalarFormatter

from .report import RESULTS_DIR, Cell, Measurement, load_results, medians

PLOT_FILE = RESULTS_DIR / "throughput_vs_concurrency.png"
COLORS = {
    "vllm": "tab:blue",
    "direct": "tab:blue",
    "litellm": "tab:orange",
    "enclave": "tab:green",
    "enclave-redis": "tab:purple",
    "enclave+pii": "tab:red",
}
"""One color per system in every panel (the baseline, bare vLLM or the instant upstream, blue)."""


def _panels(measurements: Sequence[Measurement]) -> list[tuple[str, bool]]:
    """Short prompts first, non-streamed first."""
    found = {(item.cell.prompt, item.cell.stream) for item in measurements}
    return sorted(found, key=lambda panel: (panel[0] != "short", panel[1]))


def _draw(axis: object, measurements: Sequence[Measurement], prompt: str, stream: bool) -> None:
    table = medians(measurements)
    systems = list(dict.fromkeys(item.system for item in measurements))
    concurrencies = sorted({item.cell.concurrency for item in measurements})
    for system in systems:
        points = [
            (c, table[(system, Cell(prompt, stream, c))].requests_per_s)
            for c in concurrencies
            if (system, Cell(prompt, stream, c)) in table
        ]
        if points:
            xs, ys = zip(*points, strict=True)
            color = COLORS.get(system)
            axis.plot(xs, ys, marker="o", label=system, color=color)  # type: ignore[attr-defined]
    axis.set_xscale("log", base=2)  # type: ignore[attr-defined]
    axis.set_yscale("log")  # type: ignore[attr-defined]  # systems differ by orders of magnitude
    axis.yaxis.set_major_formatter(ScalarFormatter())  # type: ignore[attr-defined]
    axis.set_xticks(concurrencies, [str(c) for c in concurrencies])  # type: ignore[attr-defined]
    axis.set_xlabel("concurrency")  # type: ignore[attr-defined]
    axis.set_ylabel("requests/s (median of rounds)")  # type: ignore[attr-defined]
    axis.grid(True, alpha=0.3)  # type: ignore[attr-defined]
    axis.legend(fontsize=7)  # type: ignore[attr-defined]


def plot_throughput(path: Path = PLOT_FILE) -> Path | None:
    """One panel per (benchmark, prompt, streaming), a row per benchmark; None without results."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sources = [
        (title, loaded)
        for title, name in (("end to end, tiny model", "e2e"), ("gateway alone", "overhead"))
        if (loaded := load_results(name)) is not None
    ]
    panels = [
        (title, items, prompt, stream)
        for title, (_, items) in sources
        for prompt, stream in _panels(items)
    ]
    if not panels:
        return None
    columns = min(4, len(panels))
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(5 * columns, 3.8 * rows), squeeze=False)
    for axis, (title, items, prompt, stream) in zip(axes.flat, panels, strict=False):
        _draw(axis, items, prompt, stream)
        axis.set_title(f"{title}: {prompt} prompt, {'stream' if stream else 'non-stream'}")
    for axis in list(axes.flat)[len(panels) :]:
        axis.set_visible(False)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
