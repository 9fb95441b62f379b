"""`enclave serve` with the real vLLM engine on the tiny test model, as a subprocess.

For end-to-end tests that need their own gateway processes (shutdown, several replicas)
rather than the session-wide one of ``tests/e2e/conftest.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from engine.tiny_model import build_tiny_model
from tests.e2e.conftest import SERVED_NAME, TINY_MODEL_DIR, free_port

REPO = Path(__file__).resolve().parents[2]


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
        "ENCLAVE_CERTS_DIR": str(work / "certs"),
        "ENCLAVE_PORT": str(free_port()),
        "ENCLAVE_METRICS_PORT": str(free_port()),
        "ENCLAVE_DATABASE_URL": f"sqlite:///{work / 'enclave.db'}",
        "ENCLAVE_KEYS_DIR": str(work / "keys"),
        "ENCLAVE_AUDIT_SIGNING_KEY_FILE": str(work / "keys" / "audit" / "signing-key.pem"),
        "ENCLAVE_AUDIT_CONTENT_KEY_FILE": str(work / "keys" / "audit" / "content.key"),
        "ENCLAVE_RATE_LIMIT_STORAGE": "memory://",
        "ENCLAVE_RATE_LIMIT_KEY_PREFIX": f"enclave-e2e-{uuid.uuid4().hex[:8]}",
        **settings,
    }


def start_gateway(env: dict[str, str], log_file: Path) -> subprocess.Popen[bytes]:
    """Start `enclave serve` with ``env``, its output in ``log_file``."""
    with log_file.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "serve"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stop_gateway(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it is still there after a minute (tests' clean-up only)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
