"""The HTTPS listener's uvicorn configuration: the hardened TLS context, optional mutual TLS."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import uvicorn

from gateway.settings import Settings
from gateway.tls.context import server_ssl_context
from gateway.tls.peer import TlsHttpToolsProtocol


def listener_ssl_context(settings: Settings) -> ssl.SSLContext:
    """TLS 1.2+ with ECDHE AEAD suites; client certificates required when a client CA is set."""
    return server_ssl_context(
        settings.server_certfile, settings.server_keyfile, client_ca=settings.client_ca_file
    )


def https_config(
    settings: Settings, app: Any, ssl_context: ssl.SSLContext, **options: Any
) -> uvicorn.Config:
    """uvicorn serving ``app`` with exactly ``ssl_context`` (never uvicorn's own defaults).

    The HTTP protocol hands each connection's verified client certificate to the app (see
    ``gateway/tls/peer.py``); ``options`` are further ``uvicorn.Config`` arguments.
    """
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        http=TlsHttpToolsProtocol,
        ssl_context_factory=_fixed(ssl_context),
        **options,
    )
    config.load()
    return config


def _fixed(
    context: ssl.SSLContext,
) -> Callable[[uvicorn.Config, Callable[[], ssl.SSLContext]], ssl.SSLContext]:
    def factory(_config: uvicorn.Config, _default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        return context

    return factory
