"""Graceful shutdown: how long in-flight requests get once SIGTERM arrives, and what then.

On SIGTERM (or Ctrl-C) the server stops accepting connections at once and readiness goes
false. Requests already running get ``ENCLAVE_SHUTDOWN_GRACE_SECONDS`` to finish; a stream
still generating after that ends in-band with a 503 ``server_shutting_down`` error event
and ``data: [DONE]`` (its audit record says ``failed`` with that reason), so no client is
left with a cut connection and no request without an outcome. Whatever is still running
``BACKSTOP_SECONDS`` later (a request the engine never gave another step) is cancelled by
uvicorn; its audit outcome is recorded on the way out. Then the app's lifespan flushes and
closes the audit chain and stops the engine, and the process exits 0.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from typing import Final

import uvicorn

from gateway.errors import ServiceUnavailableError

BACKSTOP_SECONDS: Final = 5.0
"""After the grace period, how long streams get to send their last event before uvicorn
cancels whatever is left."""
SHUTDOWN_CODE: Final = "server_shutting_down"
CLIENT_GONE: Final = 499
"""Status the request path records for a request whose client left."""
HANDLED_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


class Drain:
    """Whether this process is shutting down, and whether the grace period is over.

    Built with the app's services; the server calls ``begin`` on SIGTERM, the request path
    calls ``check`` between engine steps.
    """

    def __init__(self) -> None:
        self._deadline: float | None = None

    @property
    def draining(self) -> bool:
        return self._deadline is not None

    @property
    def expired(self) -> bool:
        """The grace period is over: running requests must end now."""
        deadline = self._deadline
        return deadline is not None and time.monotonic() >= deadline

    def begin(self, grace_seconds: float) -> None:
        """Start the grace period (once; later calls keep the first deadline).

        Safe in a signal handler: it only stores a number.
        """
        if self._deadline is None:
            self._deadline = time.monotonic() + max(0.0, grace_seconds)

    def check(self) -> None:
        """Raise the 503 that ends a request once the grace period is over."""
        if self.expired:
            raise ServiceUnavailableError(
                "the gateway is shutting down; retry the request", code=SHUTDOWN_CODE
            )

    def explain(self, failure: tuple[int, str] | None) -> tuple[int, str] | None:
        """Why a request ended: one cut after the grace period was cut by the shutdown (503),
        not by its client (499), whatever the cancellation looked like from inside."""
        if failure is not None and failure[0] == CLIENT_GONE and self.expired:
            return (ServiceUnavailableError.status_code, SHUTDOWN_CODE)
        return failure


def server_timeout(grace_seconds: float) -> float:
    """uvicorn's ``timeout_graceful_shutdown``: the grace period plus the backstop."""
    return max(0.0, grace_seconds) + BACKSTOP_SECONDS


@contextlib.contextmanager
def exit_signals(server: uvicorn.Server) -> Iterator[None]:
    """uvicorn's signal capture without its re-raise: a drained shutdown exits 0.

    ``server.handle_exit`` runs on SIGINT and SIGTERM (a second SIGINT forces the exit);
    the previous handlers are restored afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, server.handle_exit) for sig in HANDLED_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class SideServer(uvicorn.Server):
    """A listener beside the main one (metrics): the main server takes the signals and
    stops this one when it is done, so this one neither installs nor re-raises any."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
