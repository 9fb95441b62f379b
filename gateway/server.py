"""Run the gateway: the engine in this process, the app on uvicorn behind TLS."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from types import FrameType

import anyio.to_thread
import structlog
import uvicorn

from engine.instant_engine import InstantEngine
from engine.protocol import Engine, EngineConfigurationError
from gateway.app import create_app, engine_config
from gateway.audit.config import load_audit_config
from gateway.audit.content import require_content_key
from gateway.audit.setup import build_audit_trail, policy_content_levels
from gateway.auth.db_directory import DatabaseDirectory
from gateway.db.session import create_db_engine, create_session_factory, require_current_schema
from gateway.errors import ConfigurationError
from gateway.metrics.endpoint import metrics_app
from gateway.metrics.gpu import GpuSampler
from gateway.metrics.registry import GatewayMetrics
from gateway.policy.store import PolicyStore
from gateway.ratelimit.limiter import RateLimiter
from gateway.readiness import ReadinessProbe
from gateway.redaction.analyzer import PiiAnalyzer
from gateway.services import Services
from gateway.settings import Settings
from gateway.shutdown import Drain, SideServer, exit_signals, server_timeout
from gateway.tls.listener import https_config, listener_ssl_context
from gateway.transport.connection_guard import guard_connections

log = structlog.get_logger("enclave.serve")


def run_server(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM, on uvloop when it is installed."""
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(serve(settings))


def start_engine(settings: Settings) -> Engine:
    """The in-process vLLM engine, or the instant benchmark engine when explicitly asked for."""
    if settings.engine == "instant":
        log.warning("using the instant benchmark engine: answers are canned, not inference")
        return InstantEngine(settings.model_name, settings.max_model_len)
    if settings.engine != "vllm":
        raise ConfigurationError(f"ENCLAVE_ENGINE: unknown engine {settings.engine!r}")
    log.info("starting engine", model=str(settings.model), name=settings.model_name)
    from engine.vllm_engine import start_vllm_engine

    try:
        return start_vllm_engine(engine_config(settings))
    except EngineConfigurationError as exc:
        raise ConfigurationError(str(exc)) from exc


async def build_services(settings: Settings) -> Services:
    """Policies, rate limiter, database, identity directory, engine and metrics, in that order.

    Everything cheap and likely to be misconfigured is checked before the engine starts.
    """
    policies = PolicyStore.open(settings.policies_dir)
    limiter = await RateLimiter.connect(
        settings.rate_limit_storage,
        local_fallback=settings.rate_limit_local_fallback,
        slot_ttl_seconds=settings.rate_limit_slot_ttl_seconds,
        key_prefix=settings.rate_limit_key_prefix,
        socket_timeout_seconds=settings.rate_limit_store_timeout_seconds,
    )
    database = create_db_engine(settings.database_url)
    require_current_schema(database)
    sessions = create_session_factory(database)
    directory = DatabaseDirectory(sessions)
    audit = build_audit_trail(database, load_audit_config())
    require_content_key(audit.sealer, policy_content_levels(policies.current))
    log.info("loading the PII analyzer", nlp_model=settings.pii_nlp_model)
    analyzer = await anyio.to_thread.run_sync(PiiAnalyzer.build, settings.pii_nlp_model)
    engine = start_engine(settings)
    return Services(
        engine, directory, sessions, policies, limiter, GatewayMetrics(), analyzer, audit
    )


async def serve(settings: Settings) -> None:
    """Start everything and serve HTTPS (and metrics) until a shutdown signal arrives."""
    ssl_context = listener_ssl_context(settings)
    services = await build_services(settings)
    config = https_config(
        settings,
        create_app(settings, services),
        ssl_context,
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=server_timeout(settings.shutdown_grace_seconds),
    )
    guard_connections(config, settings)
    gpus = await GpuSampler.open(services.metrics.registry)
    if gpus is not None:
        gpus.start()
    try:
        async with _metrics_listener(settings, services.metrics):
            await _AnnouncingServer(config, settings, services.drain).serve()
    finally:
        if gpus is not None:
            await gpus.stop()


@contextlib.asynccontextmanager
async def _metrics_listener(settings: Settings, metrics: GatewayMetrics) -> AsyncIterator[None]:
    """Prometheus on its own plain-HTTP port (``ENCLAVE_METRICS_PORT``; 0 = on the HTTPS port).

    Started before the main server so that the main server's signal handlers are the ones
    in force: SIGTERM drains the gateway, and the metrics port closes after it.
    """
    if settings.metrics_port == 0:
        yield
        return
    config = uvicorn.Config(
        metrics_app(metrics),
        host=settings.metrics_host,
        port=settings.metrics_port,
        log_config=None,
        access_log=False,
        server_header=False,
    )
    server = SideServer(config)
    task = asyncio.create_task(server.serve(), name="enclave-metrics")
    while not server.started and not task.done():  # noqa: ASYNC110  # uvicorn offers no event
        await asyncio.sleep(0.05)
    if task.done():
        task.result()
        raise ConfigurationError(f"metrics port {settings.metrics_port} could not be opened")
    log.info("metrics listening", url=f"http://{settings.metrics_host}:{settings.metrics_port}")
    try:
        yield
    finally:
        server.should_exit = True
        await task


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints how to call the gateway once it listens."""

    def __init__(self, config: uvicorn.Config, settings: Settings, drain: Drain) -> None:
        super().__init__(config)
        self._settings = settings
        self._drain = drain

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """SIGTERM/SIGINT: report not-ready and start the grace period at once, then let
        uvicorn stop accepting, drain and shut down."""
        readiness = getattr(self.config.app, "state", {}).get("readiness")
        if isinstance(readiness, ReadinessProbe):
            readiness.draining = True
        grace = self._settings.shutdown_grace_seconds
        self._drain.begin(grace)
        log.info("draining", signal=sig, grace_seconds=grace)
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """SIGTERM/SIGINT drain the server; a drained shutdown exits 0 (no re-raise)."""
        with exit_signals(self):
            yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            url = f"https://{self._settings.host}:{self._settings.port}"
            log.info("listening", url=url, model=self._settings.model_name)
            print(how_to_call(url, self._settings), flush=True)


def how_to_call(url: str, settings: Settings) -> str:
    ca = settings.ca_certfile
    model = settings.model_name
    return f"""
Enclave is serving {model} on {url}
(`make run` put a demo token in var/demo-token; `enclave tokens issue` makes more)

  curl --cacert {ca} {url}/v1/chat/completions \\
    -H "authorization: Bearer $(cat var/demo-token)" -H 'content-type: application/json' \\
    -d '{{"model": "{model}", "messages": [{{"role": "user", "content": "Hello!"}}]}}'

  SSL_CERT_FILE={ca} OPENAI_API_KEY=$(cat var/demo-token) python - <<'PY'
  import openai
  client = openai.OpenAI(base_url="{url}/v1")
  reply = client.chat.completions.create(
      model="{model}", messages=[{{"role": "user", "content": "What is the capital of France?"}}]
  )
  print(reply.choices[0].message.content)
  PY
"""


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory
