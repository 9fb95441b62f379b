"""CPU time and resident memory of a process and its descendants, read from /proc (Linux)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return raw[raw.rindex(")") + 2 :].split()


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, as of now."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat_fields(int(entry.name))
        if stat is not None:
            children.setdefault(int(stat[1]), []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children.get(current, []))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of ``pids`` (processes that are gone count as zero)."""
    total = 0
    for pid in pids:
        stat = _stat_fields(pid)
        if stat is not None:
            total += int(stat[11]) + int(stat[12])  # utime, stime (fields 14 and 15)
    return total / CLOCK_TICKS


def rss_mib(pid: int) -> float:
    """Resident memory (VmRSS) of one process in MiB; 0 when it is gone."""
    try:
        status = (PROC / str(pid) / "status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class RssSamples:
    """VmRSS of one process, sampled on a thread while a block runs."""

    pid: int
    interval_s: float = 0.05
    samples_mib: list[float] = field(default_factory=list)

    @property
    def peak_mib(self) -> float:
        return max(self.samples_mib, default=0.0)


@contextmanager
def sample_rss(pid: int, interval_s: float = 0.05) -> Iterator[RssSamples]:
    """Sample ``pid``'s VmRSS every ``interval_s`` until the block ends."""
    result = RssSamples(pid, interval_s)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            result.samples_mib.append(rss_mib(pid))
            stop.wait(interval_s)

    thread = threading.Thread(target=sample, name="rss-sampler", daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()
        result.samples_mib.append(rss_mib(pid))


def own_cpu_seconds() -> float:
    """CPU time of this process (the load generator) so far."""
    return time.process_time()
