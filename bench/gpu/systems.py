"""Start and stop the systems compared on the GPU: bare vLLM's server and Enclave.

Enclave gets a workspace of its own (dev certificates, SQLite audit store, signing keys,
two benchmark departments that differ only in PII handling, one tenant and token each).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVED_NAME = "bench-1b"
START_TIMEOUT_S = 420
GENEROUS_LIMITS = """
rate_limits:
  per_tenant: {requests_per_minute: 1000000, tokens_per_minute: 1000000000,
               concurrent_requests: 1024, burst: 100000}
  per_department: {requests_per_minute: 1000000, tokens_per_minute: 1000000000,
                   concurrent_requests: 1024, burst: 100000}
"""
PII_OFF = """
pii:
  entities:
""" + "".join(
    f"    {name}: {{action: allow}}\n"
    for name in (
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "CREDIT_CARD",
        "IBAN_CODE",
        "US_SSN",
        "IP_ADDRESS",
        "CN_MOBILE",
        "CN_RESIDENT_ID",
        "PERSON",
    )
)
DEPARTMENTS = {
    "bench-plain": f"extends: default\ndescription: benchmark, PII off\n{GENEROUS_LIMITS}{PII_OFF}",
    "bench-pii": f"extends: default\ndescription: benchmark, PII on\n{GENEROUS_LIMITS}",
}


@dataclass(frozen=True)
class EngineChoice:
    """What both systems load: the same model folder, weights format, dtype and parallelism."""

    model: Path
    load_format: str = "dummy"
    dtype: str = "bfloat16"
    eager: bool = False
    tensor_parallel_size: int = 1


@dataclass
class Running:
    name: str
    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass(frozen=True)
class EnclaveWorkspace:
    env: dict[str, str]
    ca_file: Path
    tokens: dict[str, str]
    """Department name → an app token of a tenant in it."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_vllm(engine: EngineChoice, work: Path) -> Running:
    port = free_port()
    log = work / "vllm.log"
    command = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(engine.model),
        "--served-model-name",
        SERVED_NAME,
        "--load-format",
        engine.load_format,
        "--dtype",
        engine.dtype,
        "--max-model-len",
        "2048",
        "--tensor-parallel-size",
        str(engine.tensor_parallel_size),
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        *(["--enforce-eager"] if engine.eager else []),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    running = Running("vllm", process, f"http://127.0.0.1:{port}", log)
    _wait_ready(running, f"{running.base_url}/health", None)
    return running


def prepare_enclave(engine: EngineChoice, work: Path) -> EnclaveWorkspace:
    sys.path.insert(0, str(REPO))
    from gateway.tls.certs import init_dev_certs  # the repo joins sys.path here

    certs = init_dev_certs(work / "certs")
    policies = work / "policies"
    shutil.copytree(REPO / "policies", policies, dirs_exist_ok=True)
    for department, text in DEPARTMENTS.items():
        (policies / f"{department}.yaml").write_text(text)
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "ENCLAVE_MODEL": str(engine.model),
        "ENCLAVE_SERVED_MODEL_NAME": SERVED_NAME,
        "ENCLAVE_LOAD_FORMAT": engine.load_format,
        "ENCLAVE_DTYPE": engine.dtype,
        "ENCLAVE_ENFORCE_EAGER": str(engine.eager).lower(),
        "ENCLAVE_MAX_MODEL_LEN": "2048",
        "ENCLAVE_TENSOR_PARALLEL_SIZE": str(engine.tensor_parallel_size),
        "ENCLAVE_CERTS_DIR": str(work / "certs"),
        "ENCLAVE_POLICIES_DIR": str(policies),
        "ENCLAVE_DATABASE_URL": f"sqlite:///{work / 'enclave.db'}",
        "ENCLAVE_KEYS_DIR": str(work / "keys"),
        "ENCLAVE_AUDIT_SIGNING_KEY_FILE": str(work / "keys" / "audit" / "signing-key.pem"),
        "ENCLAVE_AUDIT_CONTENT_KEY_FILE": str(work / "keys" / "audit" / "content.key"),
        "ENCLAVE_METRICS_PORT": str(free_port()),
        "ENCLAVE_LOG_LEVEL": "warning",
    }
    for args in (("db", "upgrade"), ("keys", "rotate"), ("audit", "init-key")):
        cli(env, *args)
    cli(env, "audit", "init-key", "--content")
    tokens = {}
    for department in DEPARTMENTS:
        cli(env, "tenants", "create", department, "--department", department)
        tokens[department] = cli(
            env, "tokens", "issue", "--tenant", department, "--roles", "app", "--ttl", "8h", "-q"
        )
    return EnclaveWorkspace(env, certs.ca_cert, tokens)


def start_enclave(workspace: EnclaveWorkspace, work: Path) -> Running:
    port = free_port()
    env = {**workspace.env, "ENCLAVE_PORT": str(port)}
    log = work / "enclave.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "serve"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Running("enclave", process, f"https://127.0.0.1:{port}", log)
    _wait_ready(running, f"{running.base_url}/readyz", workspace.ca_file)
    return running


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"enclave {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout.strip()


def _wait_ready(running: Running, url: str, ca_file: Path | None) -> None:
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
    deadline = time.monotonic() + START_TIMEOUT_S
    started = time.monotonic()
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            tail = running.log.read_text(errors="replace")[-3000:]
            raise SystemExit(f"{running.name} exited with {running.process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as reply:  # noqa: S310
                if reply.status == 200:
                    print(f"   {running.name} ready after {time.monotonic() - started:.0f} s")
                    return
        except OSError:
            pass
        time.sleep(1)
    running.stop()
    raise SystemExit(f"{running.name} not ready after {START_TIMEOUT_S} s")
