"""`enclave serve` with the real vLLM engine on the tiny test model, as a subprocess.

For end-to-end tests that need their own gateway processes (shutdown, several replicas)
rather than the session-wide one of ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

from engine.tiny_model import build_tiny_model
from tests.e2e.conftest import SERVED_NAME, TINY_MODEL_DIR, free_port, run_cli
from tests.support.workspace import workspace_env


def vllm_gateway_env(work: Path, **settings: str) -> dict[str, str]:
    """Environment for a gateway on the tiny model whose certificates (``work/certs``),
    keys and SQLite database live in ``work``; ``settings`` (ENCLAVE_* names) win."""
    build_tiny_model(TINY_MODEL_DIR)
    return {
        **os.environ,
        "ENCLAVE_MODEL": str(TINY_MODEL_DIR),
        "ENCLAVE_SERVED_MODEL_NAME": SERVED_NAME,
        "ENCLAVE_DTYPE": "float32",
        "ENCLAVE_MAX_MODEL_LEN": "512",
        "VLLM_CPU_KVCACHE_SPACE": "1",
        **workspace_env(work),
        "ENCLAVE_PORT": str(free_port()),
        "ENCLAVE_METRICS_PORT": str(free_port()),
        "ENCLAVE_RATE_LIMIT_STORAGE": "memory://",
        "ENCLAVE_RATE_LIMIT_KEY_PREFIX": f"enclave-e2e-{uuid.uuid4().hex[:8]}",
        **settings,
    }


def stop_gateway(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it is still there after a minute (tests' clean-up only)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (vLLM's engine core and workers), from /proc."""
    found: set[int] = set()
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in children.read_text().split():
            found |= {int(child)} | descendants(int(child))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except FileNotFoundError:
        return "(gone)"


def survivors(pids: set[int], polls: int = 100) -> dict[int, str]:
    """The processes of ``pids`` still running once they had a few seconds to exit."""
    for _ in range(polls):
        running = {pid for pid in pids if alive(pid)}
        if not running:
            return {}
        time.sleep(0.1)
    return {pid: command_line(pid) for pid in running}


def audit_outcomes(env: dict[str, str]) -> dict[str, list[dict[str, object]]]:
    """Every audit record, grouped by request id."""
    found = json.loads(run_cli(env, "audit", "search", "--json", "--limit", "500"))
    by_request: dict[str, list[dict[str, object]]] = {}
    for record in found["records"]:
        by_request.setdefault(str(record["request_id"]), []).append(record)
    return by_request
