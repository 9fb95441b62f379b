"""``enclave serve``: start the engine, then the HTTPS gateway around it."""

from __future__ import annotations

import dataclasses

import click

from gateway.log import configure_logging
from gateway.settings import load_settings


@click.command("serve")
@click.option("--host", default=None, help="bind address (default: ENCLAVE_HOST or 127.0.0.1)")
@click.option("--port", type=int, default=None, help="bind port (default: ENCLAVE_PORT or 8443)")
def serve_command(host: str | None, port: int | None) -> None:
    """Run the gateway with its in-process engine."""
    settings = load_settings()
    if host is not None:
        settings = dataclasses.replace(settings, host=host)
    if port is not None:
        settings = dataclasses.replace(settings, port=port)
    configure_logging(settings.log_level)
    from gateway.server import run_server  # imports Litestar, uvicorn and the app: only here

    run_server(settings)
