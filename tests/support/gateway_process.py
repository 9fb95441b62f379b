"""The whole gateway (`enclave serve`: uvicorn, TLS, auth, policy, audit) as a subprocess.

It runs around the explicit instant benchmark engine, for tests of the listener and the
gates that do not need inference; everything in front of the engine is the production code.
"""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port
from tests.support.workspace import start_gateway, workspace_env

REPO = Path(__file__).resolve().parents[2]
INSTANT_MODEL = "instant"
START_TIMEOUT_SECONDS = 180


def instant_gateway_env(work: Path, **settings: str) -> dict[str, str]:
    """Environment for a gateway whose database, keys and certificates live in ``work``."""
    return {
        **os.environ,
        "ENCLAVE_ENGINE": "instant",
        "ENCLAVE_SERVED_MODEL_NAME": INSTANT_MODEL,
        **workspace_env(work),
        "ENCLAVE_RATE_LIMIT_KEY_PREFIX": f"enclave-tls-{uuid.uuid4().hex[:8]}",
        "ENCLAVE_PORT": str(free_port()),
        "ENCLAVE_METRICS_PORT": str(free_port()),
        "ENCLAVE_LOG_LEVEL": "warning",
        **settings,
    }


@contextmanager
def running_gateway(
    env: dict[str, str], ready_tls: ssl.SSLContext, log_file: Path
) -> Iterator[str]:
    """Start `enclave serve`, wait until /readyz answers 200 over ``ready_tls``; yield its URL."""
    url = f"https://127.0.0.1:{env['ENCLAVE_PORT']}"
    process = start_gateway(env, log_file)
    try:
        _wait_until_ready(process, url, ready_tls, log_file)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(
    process: subprocess.Popen[bytes], url: str, tls: ssl.SSLContext, log: Path
) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gateway exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/readyz", verify=tls, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"gateway not ready after {START_TIMEOUT_SECONDS}s:\n{log.read_text()[-4000:]}")
