"""Start and stop the systems under test, each as its own process group.

Every system is a subprocess started in a new session, so stopping it (SIGTERM, then
SIGKILL after a grace period) reaches the helper processes it spawned (vLLM's engine core)
and nothing else on the machine.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
BENCH_VAR = REPO / "var" / "bench"
LITELLM_VENV = BENCH_VAR / "litellm-venv"
START_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 60.0


class ServerStartError(RuntimeError):
    """A system did not become ready; the message ends with its log's tail."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A running system: its process (group leader), where it answers, where its log goes."""

    name: str
    process: subprocess.Popen[bytes]
    log_file: Path
    base_url: str
    """Root URL, without /v1."""
    headers: dict[str, str] = field(default_factory=dict)
    """What a client sends with every request (credentials)."""

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_file.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        _reap_group(self.process.pid)


def _reap_group(group: int) -> None:
    """Children left in the group (vLLM's engine core) get SIGKILL once the leader is gone."""
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        return


def start_server(
    name: str,
    command: Sequence[str],
    env: Mapping[str, str],
    log_file: Path,
    base_url: str,
    cwd: Path = REPO,
) -> Server:
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(name, process, log_file, base_url)


def wait_ready(
    server: Server, url: str, verify: ssl.SSLContext | bool = False, timeout_s: float = 0
) -> None:
    """Poll ``url`` until it answers 200; raise with the log's tail if the process dies."""
    deadline = time.monotonic() + (timeout_s or START_TIMEOUT_S)
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise ServerStartError(
                f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}"
            )
        try:
            if httpx.get(url, verify=verify, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.stop()
    raise ServerStartError(f"{server.name} not ready after {timeout_s}s:\n{server.log_tail()}")


@contextmanager
def running(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        server.stop()


def quiet_env(**extra: str) -> dict[str, str]:
    """This environment, offline, plus ``extra``."""
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
        **extra,
    }


def start_bare_vllm(model_dir: Path, served_name: str, max_model_len: int, logs: Path) -> Server:
    """vLLM's own OpenAI server on the model, configured like Enclave's in-process engine."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model_dir),
        "--served-model-name",
        served_name,
        "--dtype",
        "float32",
        "--enforce-eager",
        "--max-model-len",
        str(max_model_len),
        "--seed",
        "0",
        "--disable-log-stats",
        "--disable-uvicorn-access-log",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    env = quiet_env(VLLM_CPU_KVCACHE_SPACE="1")
    url = f"http://127.0.0.1:{port}"
    server = start_server("vllm", command, env, logs / "vllm.log", url)
    wait_ready(server, f"{url}/v1/models")
    return server


def ensure_litellm() -> Path:
    """The LiteLLM proxy's executable in its own virtualenv (``make bench-e2e`` creates it)."""
    executable = LITELLM_VENV / "bin" / "litellm"
    if not executable.exists():
        raise ServerStartError(
            f"{executable} is missing: run `make litellm-venv` (litellm[proxy] pinned, own venv)"
        )
    return executable


def start_litellm(upstream_v1: str, model: str, logs: Path) -> Server:
    """LiteLLM's proxy, one worker, mapping ``model`` to an OpenAI-compatible upstream."""
    port = free_port()
    config = logs / "litellm-config.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    # JSON is YAML: no YAML writer needed.
    config.write_text(
        json.dumps(
            {
                "model_list": [
                    {
                        "model_name": model,
                        "litellm_params": {
                            "model": f"openai/{model}",
                            "api_base": upstream_v1,
                            "api_key": "none",
                        },
                    }
                ],
                "litellm_settings": {"telemetry": False, "drop_params": True},
            }
        )
    )
    command = [str(ensure_litellm()), "--config", str(config), "--host", "127.0.0.1"]
    command += ["--port", str(port), "--num_workers", "1"]
    # LiteLLM refuses to start without a master key; with one, it checks every request's key.
    master_key = f"sk-{secrets.token_hex(32)}"
    env = quiet_env(
        LITELLM_LOCAL_MODEL_COST_MAP="True", LITELLM_LOG="ERROR", LITELLM_MASTER_KEY=master_key
    )
    url = f"http://127.0.0.1:{port}"
    server = start_server("litellm", command, env, logs / "litellm.log", url)
    server.headers["authorization"] = f"Bearer {master_key}"
    wait_ready(server, f"{url}/health/liveliness")
    return server


def start_instant_upstream(model: str, logs: Path, source: Path = REPO) -> Server:
    """The instant OpenAI-compatible upstream (bench/harness/instant_upstream.py) on uvicorn.

    It runs in ``source`` so that it answers with that tree's instant-engine sentence.
    """
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "harness.instant_upstream:app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
    command += ["--log-level", "warning"]
    env = quiet_env(PYTHONPATH=str(REPO / "bench"), INSTANT_UPSTREAM_MODEL=model)
    url = f"http://127.0.0.1:{port}"
    log_file = logs / "instant-upstream.log"
    server = start_server("instant-upstream", command, env, log_file, url, cwd=source)
    wait_ready(server, f"{url}/v1/models")
    return server
