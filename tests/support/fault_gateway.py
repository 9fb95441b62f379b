"""A real ``enclave serve`` (uvicorn, TLS, every gate) for fault-injection tests.

It runs around the explicit instant benchmark engine: the faults under test are in the
gateway's own dependencies (database, rate-limit store, disk), and the instant engine
makes "did the engine do any work" visible as ``enclave_completion_tokens_total``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from gateway.db.engine import create_db_engine
from gateway.tls.certs import init_dev_certs
from tests.e2e.conftest import prepare_identity, run_cli, wait_until_ready
from tests.support.policies import default_policy_with_rates
from tests.support.private_services import free_port
from tests.support.workspace import start_gateway, workspace_env

INSTANT_MODEL = "instant"
OUT_OF_REACH = {
    "requests_per_minute": 1_000_000,
    "tokens_per_minute": 100_000_000,
    "burst": 100_000,
    "concurrent_requests": 10_000,
}
"""Rate limits no fault test reaches: a 429 must never be mistaken for a fault's answer."""
CLEAN_EXIT = (0, -signal.SIGTERM)
"""After SIGTERM, uvicorn shuts down cleanly and then re-raises the signal."""


def fault_gateway_env(work: Path, **settings: str) -> dict[str, str]:
    """Environment of a gateway whose certificates, keys, policies and database live in
    ``work`` (SQLite unless ``ENCLAVE_DATABASE_URL`` is given), in-memory rate limits."""
    return {
        **os.environ,
        "ENCLAVE_ENGINE": "instant",
        "ENCLAVE_SERVED_MODEL_NAME": INSTANT_MODEL,
        **workspace_env(work),
        "ENCLAVE_PORT": str(free_port()),
        "ENCLAVE_METRICS_PORT": str(free_port()),
        "ENCLAVE_POLICIES_DIR": str(
            default_policy_with_rates(work / "policies", tenant=OUT_OF_REACH)
        ),
        "ENCLAVE_RATE_LIMIT_STORAGE": "memory://",
        "ENCLAVE_RATE_LIMIT_KEY_PREFIX": f"enclave-faults-{uuid.uuid4().hex[:8]}",
        "ENCLAVE_LOG_LEVEL": "info",
        **settings,
    }


@dataclass
class FaultGateway:
    env: dict[str, str]
    url: str
    ca_file: Path
    token: str
    log_file: Path
    process: subprocess.Popen[bytes]

    def http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            verify=str(self.ca_file),
            headers={"authorization": f"Bearer {self.token}"},
            timeout=30,
        )

    def ask(self, http: httpx.Client, **extra: Any) -> httpx.Response:
        body = {"model": INSTANT_MODEL, "messages": [{"role": "user", "content": "Hello"}]}
        return http.post("/v1/chat/completions", json={**body, **extra})

    def completion_tokens(self) -> float:
        """``enclave_completion_tokens_total`` over every label: the engine's output so far."""
        text = httpx.get(f"http://127.0.0.1:{self.env['ENCLAVE_METRICS_PORT']}/metrics").text
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("enclave_completion_tokens_total")
        )

    def enclave(self, *args: str) -> str:
        return run_cli(self.env, *args)

    def log_text(self) -> str:
        return self.log_file.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM (drain, close the audit chain) and wait; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@contextlib.contextmanager
def running_fault_gateway(env: dict[str, str], work: Path) -> Iterator[FaultGateway]:
    """Migrate, create keys and a tenant, start the gateway and wait until it is ready."""
    certs = init_dev_certs(Path(env["ENCLAVE_CERTS_DIR"]))
    token = prepare_identity(env)
    log_file = work / "gateway.log"
    process = start_gateway(env, log_file)
    url = f"https://127.0.0.1:{env['ENCLAVE_PORT']}"
    gateway = FaultGateway(env, url, certs.ca_cert, token, log_file, process)
    try:
        wait_until_ready(process, url, certs.ca_cert, log_file)
        yield gateway
    finally:
        gateway.stop()


def openai_error(response: httpx.Response) -> dict[str, Any]:
    """The ``error`` object of an error response (fails the test on any other shape)."""
    body = response.json()
    if set(body) != {"error"} or not isinstance(body["error"], dict):
        pytest.fail(f"not an OpenAI error envelope: {body}")
    error: dict[str, Any] = body["error"]
    return error


def audit_kinds(database_url: str) -> dict[str, list[str]]:
    """Request id -> the kinds of its audit records, in the order they were written."""
    database = create_db_engine(database_url)
    try:
        with database.connect() as connection:
            rows = connection.execute(
                text("SELECT request_id, kind FROM audit_events ORDER BY id")
            ).all()
    finally:
        database.dispose()
    kinds: dict[str, list[str]] = {}
    for request_id, kind in rows:
        if request_id is not None:
            kinds.setdefault(str(request_id), []).append(str(kind))
    return kinds
