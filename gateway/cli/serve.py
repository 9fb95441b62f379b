"""``enclave serve``: start the engine, then the HTTPS gateway around it."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import socket
from collections.abc import Callable

import structlog
import uvicorn

from engine.protocol import EngineConfigurationError
from gateway.app import create_app, engine_config
from gateway.errors import ConfigurationError
from gateway.log import configure_logging
from gateway.settings import Settings, load_settings
from gateway.tls.context import server_ssl_context

log = structlog.get_logger("enclave.serve")

GRACEFUL_SHUTDOWN_SECONDS = 30


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser("serve", help="run the gateway with its in-process engine")
    parser.add_argument("--host", help="bind address (default: ENCLAVE_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="bind port (default: ENCLAVE_PORT or 8443)")
    parser.set_defaults(handler=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.host is not None:
        settings = dataclasses.replace(settings, host=args.host)
    if args.port is not None:
        settings = dataclasses.replace(settings, port=args.port)
    configure_logging(settings.log_level)
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(serve(settings))
    return 0


async def serve(settings: Settings) -> None:
    """Start the engine and serve HTTPS until a shutdown signal arrives."""
    ssl_context = server_ssl_context(settings.server_certfile, settings.server_keyfile)
    log.info("starting engine", model=str(settings.model), name=settings.model_name)
    from engine.vllm_engine import start_vllm_engine

    try:
        engine = start_vllm_engine(engine_config(settings))
    except EngineConfigurationError as exc:
        raise ConfigurationError(str(exc)) from exc
    app = create_app(settings, engine)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.server_certfile),
        ssl_keyfile=str(settings.server_keyfile),
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    config.load()
    config.ssl = ssl_context
    await _AnnouncingServer(config, settings).serve()


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints how to call the gateway once it listens."""

    def __init__(self, config: uvicorn.Config, settings: Settings) -> None:
        super().__init__(config)
        self._settings = settings

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

  curl --cacert {ca} {url}/v1/chat/completions \\
    -H 'content-type: application/json' \\
    -d '{{"model": "{model}", "messages": [{{"role": "user", "content": "Hello!"}}]}}'

  SSL_CERT_FILE={ca} python - <<'PY'
  import openai
  client = openai.OpenAI(base_url="{url}/v1", api_key="unused")
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
