"""Enclave as a system under test: set up once (database, keys, tenants, tokens), start per round.

Two tenants share one gateway so PII on and off run against the same process:

- ``bench-pii-off`` (department ``bench-pii-off``): the shipped default policy with every
  PII entity set to ``allow``, so the analyzer is never called;
- ``bench-pii-on`` (department ``bench-pii-on``, no file of its own): the shipped default
  policy, PII rules included.

Both keep the full path (TLS, JWT, policy, rate limits, audit on SQLite); the rate limits
are raised so that the benchmark measures their cost, not their refusals.
"""

from __future__ import annotations

import re
import ssl
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from .load import Target
from .servers import Server, ServerStartError, free_port, quiet_env, start_server, wait_ready

PII_OFF, PII_ON = "bench-pii-off", "bench-pii-on"
BENCH_RATES = {
    "requests_per_minute": 100_000_000,
    "tokens_per_minute": 1_000_000_000,
    "concurrent_requests": 100_000,
    "burst": 10_000_000,
}


@dataclass(frozen=True, slots=True)
class EnclaveSetup:
    """A prepared gateway: its environment (port included), CA file and one token per tenant."""

    name: str
    source: Path
    """The Enclave tree the gateway runs from (see harness.source)."""
    env: dict[str, str]
    ca_file: Path
    tokens: dict[str, str]
    model: str

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.env['ENCLAVE_PORT']}"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def target(self, tenant: str, name: str) -> Target:
        return Target(
            name=name,
            base_url=f"{self.base_url}/v1",
            model=self.model,
            headers={"authorization": f"Bearer {self.tokens[tenant]}"},
            verify=self.ssl_context(),
        )


def write_bench_policies(folder: Path, source: Path) -> Path:
    """``source``'s default policy with benchmark rate limits, and a copy with PII allowed."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (source / "policies" / "default.yaml").read_text()
    for key, value in BENCH_RATES.items():
        text = re.sub(rf"\b{key}: \d+", f"{key}: {value}", text)
    (folder / "default.yaml").write_text(text)
    entities = yaml.safe_load(text)["pii"]["entities"]
    allowed = "\n".join(f"    {name}: {{action: allow}}" for name in entities)
    (folder / f"{PII_OFF}.yaml").write_text(
        "extends: default\ndescription: Benchmark; the default policy with PII off.\n"
        f"pii:\n  entities:\n{allowed}\n"
    )
    return folder


def prepare_enclave(
    work: Path,
    *,
    source: Path,
    name: str,
    engine: str,
    model_dir: Path,
    served_name: str,
    max_model_len: int,
    rate_limit_storage: str,
) -> EnclaveSetup:
    """Certificates, policies, a migrated SQLite database, keys, two tenants and their tokens."""
    work.mkdir(parents=True, exist_ok=True)
    env = quiet_env(
        ENCLAVE_ENGINE=engine,
        ENCLAVE_MODEL=str(model_dir),
        ENCLAVE_SERVED_MODEL_NAME=served_name,
        ENCLAVE_DTYPE="float32",
        ENCLAVE_MAX_MODEL_LEN=str(max_model_len),
        VLLM_CPU_KVCACHE_SPACE="1",
        ENCLAVE_CERTS_DIR=str(work / "certs"),
        ENCLAVE_PORT=str(free_port()),
        ENCLAVE_METRICS_PORT=str(free_port()),
        ENCLAVE_DATABASE_URL=f"sqlite:///{work / 'enclave.db'}",
        ENCLAVE_KEYS_DIR=str(work / "keys"),
        ENCLAVE_AUDIT_SIGNING_KEY_FILE=str(work / "keys" / "audit" / "signing-key.pem"),
        ENCLAVE_AUDIT_CONTENT_KEY_FILE=str(work / "keys" / "audit" / "content.key"),
        ENCLAVE_POLICIES_DIR=str(write_bench_policies(work / "policies", source)),
        ENCLAVE_RATE_LIMIT_STORAGE=rate_limit_storage,
        ENCLAVE_RATE_LIMIT_KEY_PREFIX=f"enclave-bench-{uuid.uuid4().hex[:8]}",
        ENCLAVE_LOG_LEVEL="warning",
    )
    _cli(source, env, "certs", "init")
    _cli(source, env, "db", "upgrade")
    _cli(source, env, "keys", "rotate", "--if-missing")
    _cli(source, env, "audit", "init-key", "--if-missing")
    _cli(source, env, "audit", "init-key", "--content", "--if-missing")
    tokens = {}
    for tenant in (PII_OFF, PII_ON):
        _cli(source, env, "tenants", "create", tenant, "--department", tenant, "--if-missing")
        tokens[tenant] = _cli(
            source,
            env,
            "tokens",
            "issue",
            "--tenant",
            tenant,
            "--roles",
            "app",
            "--ttl",
            "8h",
            "-q",
        )
    return EnclaveSetup(name, source, env, work / "certs" / "ca.pem", tokens, served_name)


def start_enclave(setup: EnclaveSetup, logs: Path) -> Server:
    """``enclave serve`` with the setup's environment; returns once /readyz answers 200."""
    command = [sys.executable, "-m", "gateway.cli.main", "serve"]
    log_file = logs / f"{setup.name}.log"
    server = start_server(
        setup.name, command, setup.env, log_file, setup.base_url, cwd=setup.source
    )
    wait_ready(server, f"{setup.base_url}/readyz", verify=setup.ssl_context())
    return server


def _cli(source: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", *args],
        cwd=source,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise ServerStartError(f"enclave {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip()
