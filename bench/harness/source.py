"""Which Enclave is measured: a snapshot of the last commit (default) or the live working tree.

Several people edit this working tree at once; a benchmark that runs for minutes must not
pick up half-finished edits. The snapshot is ``git archive HEAD`` unpacked under
var/bench/src/<commit>; the gateway runs from it (``python -m gateway.cli.main`` with the
snapshot as working directory imports the snapshot's packages before the editable install's).
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from .servers import BENCH_VAR, REPO


def head_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def enclave_source(mode: str) -> Path:
    """``worktree``: this checkout as it is; ``snapshot``: the files of HEAD, unpacked once."""
    if mode == "worktree":
        return REPO
    if mode != "snapshot":
        raise ValueError(f"source must be 'snapshot' or 'worktree', not {mode!r}")
    commit = head_commit()
    target = BENCH_VAR / "src" / commit[:12]
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        archive = Path(scratch) / "head.tar"
        with archive.open("wb") as out:
            subprocess.run(["git", "archive", commit], cwd=REPO, stdout=out, check=True)
        unpacked = Path(scratch) / "tree"
        with tarfile.open(archive) as tar:
            tar.extractall(unpacked, filter="data")
        shutil.move(unpacked, target)
    return target
