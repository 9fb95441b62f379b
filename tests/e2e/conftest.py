"""End-to-end: the real server (uvicorn + TLS + in-process vLLM on a tiny model) in a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai
import pytest

from engine.tiny_model import build_tiny_model
from gateway.tls.certs import init_dev_certs
from tests.support.workspace import start_gateway, workspace_env

REPO = Path(__file__).resolve().parents[2]
TINY_MODEL_DIR = REPO / "var" / "test-models" / "tiny-llama"
SERVED_NAME = "tiny-llama"
START_TIMEOUT_SECONDS = 300
HEADER_TIMEOUT_SECONDS = 3
BODY_TIMEOUT_SECONDS = 3


@dataclass(frozen=True)
class RunningGateway:
    base_url: str
    host: str
    port: int
    ca_file: Path
    model: str
    log_file: Path
    env: dict[str, str]
    token: str

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.env['ENCLAVE_METRICS_PORT']}/metrics"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def client(self, token: str | None = None) -> openai.OpenAI:
        http = httpx.Client(verify=self.ssl_context(), timeout=60)
        return openai.OpenAI(
            base_url=f"{self.base_url}/v1", api_key=token or self.token, http_client=http
        )

    def async_client(self) -> openai.AsyncOpenAI:
        http = httpx.AsyncClient(verify=self.ssl_context(), timeout=60)
        return openai.AsyncOpenAI(
            base_url=f"{self.base_url}/v1", api_key=self.token, http_client=http
        )

    def enclave(self, *args: str) -> str:
        """Run the admin CLI against this gateway's database and keys."""
        return run_cli(self.env, *args)

    def log_text(self) -> str:
        return self.log_file.read_text(errors="replace")


def run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"enclave {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout.strip()


def prepare_identity(env: dict[str, str]) -> str:
    """Migrate a fresh database, create a signing key and a tenant; return an app token."""
    run_cli(env, "db", "upgrade")
    run_cli(env, "keys", "rotate")
    run_cli(env, "audit", "init-key")
    run_cli(env, "audit", "init-key", "--content")
    run_cli(env, "tenants", "create", "acme", "--department", "engineering")
    return run_cli(
        env, "tokens", "issue", "--tenant", "acme", "--roles", "app", "--ttl", "2h", "-q"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_ready(process: subprocess.Popen[bytes], url: str, ca: Path, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    context = ssl.create_default_context(cafile=str(ca))
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gateway exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/readyz", verify=context, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"gateway not ready after {START_TIMEOUT_SECONDS}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    build_tiny_model(TINY_MODEL_DIR)
    work = tmp_path_factory.mktemp("gateway")
    certs = init_dev_certs(work / "certs")
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "ENCLAVE_MODEL": str(TINY_MODEL_DIR),
        "ENCLAVE_SERVED_MODEL_NAME": SERVED_NAME,
        **workspace_env(work),
        "ENCLAVE_PORT": str(port),
        "ENCLAVE_METRICS_PORT": str(metrics_port),
        "ENCLAVE_DTYPE": "float32",
        "ENCLAVE_MAX_MODEL_LEN": "512",
        "VLLM_CPU_KVCACHE_SPACE": "1",
        "ENCLAVE_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/0",
        "ENCLAVE_RATE_LIMIT_KEY_PREFIX": f"enclave-e2e-{uuid.uuid4().hex[:8]}",
        # Short enough for tests/e2e/test_slow_clients.py to wait out; ample for real clients.
        "ENCLAVE_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT_SECONDS),
        "ENCLAVE_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT_SECONDS),
    }
    token = prepare_identity(env)
    log_file = work / "server.log"
    process = start_gateway(env, log_file)
    url = f"https://127.0.0.1:{port}"
    try:
        wait_until_ready(process, url, certs.ca_cert, log_file)
        yield RunningGateway(
            url, "127.0.0.1", port, certs.ca_cert, SERVED_NAME, log_file, env, token
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def client(gateway: RunningGateway) -> Iterator[openai.OpenAI]:
    with gateway.client() as openai_client:
        yield openai_client
