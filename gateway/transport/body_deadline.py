"""A deadline on reading the request body: a client that dribbles its body is cut off with 408.

The whole body must arrive within ``ENCLAVE_BODY_TIMEOUT_SECONDS`` of the headers. The
deadline applies only while body is still expected; once the last body message (or a
disconnect) arrived, ``receive`` is passed through untouched, because handlers keep
listening on it for the client's disconnect while the engine generates.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import anyio
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from gateway.errors import RequestTimeoutError


def body_deadline(seconds: float) -> Callable[[ASGIApp], ASGIApp]:
    """Middleware: ``receive`` raises ``RequestTimeoutError`` once the body is ``seconds`` late."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            await app(scope, DeadlinedReceive(receive, seconds), send)

        return middleware

    return wrap


class DeadlinedReceive:
    """``receive`` with a deadline on the request body (not on what comes after it)."""

    def __init__(self, receive: Receive, seconds: float) -> None:
        self._receive = receive
        self._seconds = seconds
        self._deadline = time.monotonic() + seconds
        self._body_complete = False

    async def __call__(self) -> ReceiveMessage:
        if self._body_complete:
            return await self._receive()
        remaining = max(self._deadline - time.monotonic(), 0.0)
        try:
            with anyio.fail_after(remaining):
                message = await self._receive()
        except TimeoutError:
            raise self._timeout() from None
        if message["type"] != "http.request" or not message.get("more_body", False):
            self._body_complete = True
        return message

    def _timeout(self) -> RequestTimeoutError:
        error = RequestTimeoutError(
            f"the request body did not arrive within {self._seconds:g} seconds"
        )
        error.headers["connection"] = "close"
        return error
