"""Limits uvicorn's HTTP protocol does not have: header size, header time, draining time.

uvicorn's httptools protocol reads headers of any size for as long as a client cares to
send them, and after an early answer (401, 413) it reads and drops the rest of the body
for as long as it keeps coming, each byte pushing its keep-alive timer back. This subclass
closes those doors:

- request line plus headers over ``ENCLAVE_MAX_HEADER_BYTES``: 431 and the connection closes
  (measured exactly once the headers are in, and cut off early while they are still coming);
- headers not complete ``ENCLAVE_HEADER_TIMEOUT_SECONDS`` after the connection opened (or
  after the first byte of the next request): 408 (or a plain close if nothing was sent);
- a body still arriving after its answer went out: drained for at most
  ``ENCLAVE_BODY_TIMEOUT_SECONDS``, then the connection closes.

uvicorn's own answer to an unparsable request (a plain-text 400) is given in OpenAI's
envelope too. These refusals happen before a request exists for the app, so they carry no
request id and leave no audit record; they are logged (``enclave.transport``) instead.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from http import HTTPStatus
from typing import ClassVar, cast

import msgspec
import structlog
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.errors import (
    ConfigurationError,
    GatewayError,
    HeadersTooLargeError,
    InvalidRequestError,
    RequestTimeoutError,
)
from gateway.settings import Settings

log = structlog.get_logger("enclave.transport")


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    max_header_bytes: int
    """Most bytes of request line and headers one request may send."""
    header_timeout_seconds: float
    """How long a request's line and headers may take to arrive."""
    drain_seconds: float
    """How long the rest of a body is read and dropped after its answer went out."""

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            max_header_bytes=settings.max_header_bytes,
            header_timeout_seconds=settings.header_timeout_seconds,
            drain_seconds=settings.body_timeout_seconds,
        )


def guard_connections(config: uvicorn.Config, settings: Settings) -> None:
    """Make a loaded ``config`` serve with the guarded protocol and the keep-alive setting."""
    if not config.loaded:
        config.load()
    base = config.http_protocol_class
    if not (isinstance(base, type) and issubclass(base, HttpToolsProtocol)):
        raise ConfigurationError("the HTTPS listener needs uvicorn's httptools protocol")
    config.http_protocol_class = guarded_protocol(base, ConnectionLimits.from_settings(settings))
    config.timeout_keep_alive = settings.keep_alive_seconds


def guarded_protocol(
    base: type[HttpToolsProtocol], limits: ConnectionLimits
) -> type[HttpToolsProtocol]:
    """``base`` (uvicorn's protocol or a subclass of it) with ``limits`` enforced."""
    bases = (base,) if issubclass(base, ConnectionGuard) else (ConnectionGuard, base)
    return cast("type[HttpToolsProtocol]", type("GuardedHttpProtocol", bases, {"limits": limits}))


class ConnectionGuard(HttpToolsProtocol):
    """uvicorn's httptools protocol with header size, header time and drain time limits."""

    limits: ClassVar[ConnectionLimits]

    _awaiting_headers = True
    _header_bytes = 0
    _header_timer: asyncio.TimerHandle | None = None
    _drain_timer: asyncio.TimerHandle | None = None
    _refusal: GatewayError | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._header_timer = _cancel(self._header_timer)
        self._drain_timer = _cancel(self._drain_timer)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._awaiting_headers:
            self._header_bytes += len(data)
            if self._header_timer is None:
                self._arm_header_timer()
        super().data_received(data)
        over = self._header_bytes > self.limits.max_header_bytes
        if self._awaiting_headers and over and not self.transport.is_closing():
            self._refuse(self._headers_too_large())

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._header_bytes = 0
        self._header_timer = _cancel(self._header_timer)
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.limits.max_header_bytes:
            self._refusal = self._headers_too_large()
            raise _Refused  # stops the parser; uvicorn answers through send_400_response
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request it cannot parse, in OpenAI's envelope."""
        refusal, self._refusal = self._refusal, None
        self._refuse(refusal or InvalidRequestError("the HTTP request could not be parsed"))

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._awaiting_headers = True
        self._header_bytes = 0
        if self._drain_timer is not None:  # the dropped body is in: back to keep-alive
            self._drain_timer = _cancel(self._drain_timer)
            self._unset_keepalive_if_required()
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def on_response_complete(self) -> None:
        super().on_response_complete()
        body_unread = self.cycle is not None and self.cycle.more_body
        if body_unread and not self.transport.is_closing():
            self._drain_timer = self.loop.call_later(
                self.limits.drain_seconds, self._close, "body still arriving after its answer"
            )

    def _headers_too_large(self) -> HeadersTooLargeError:
        limit = self.limits.max_header_bytes
        return HeadersTooLargeError(f"request line and headers are over {limit} bytes")

    def _arm_header_timer(self) -> None:
        self._header_timer = self.loop.call_later(
            self.limits.header_timeout_seconds, self._headers_too_slow
        )

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_header_timer()  # bytes of a next request during an answer: wait it out
            return
        if self._header_bytes == 0:
            self._close("no request within the header timeout")
            return
        seconds = self.limits.header_timeout_seconds
        self._refuse(RequestTimeoutError(f"request headers did not arrive within {seconds:g} s"))

    def _refuse(self, error: GatewayError) -> None:
        """Answer ``error`` in OpenAI's envelope, then close: no request reached the app."""
        body = msgspec.json.encode(error.to_body())
        phrase = HTTPStatus(error.status_code).phrase
        head = (
            f"HTTP/1.1 {error.status_code} {phrase}\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        )
        self.transport.write(head.encode("ascii") + body)
        self._close(error.code or error.error_type, status=error.status_code)

    def _close(self, reason: str, *, status: int | None = None) -> None:
        client = self.client[0] if self.client else None
        log.info("connection closed by a limit", reason=reason, status=status, client=client)
        self._header_timer = _cancel(self._header_timer)
        self._drain_timer = _cancel(self._drain_timer)
        self.transport.close()


class _Refused(Exception):
    """Raised from a parser callback to stop parsing a request that is refused."""


def _cancel(timer: asyncio.TimerHandle | None) -> asyncio.TimerHandle | None:
    """Cancel ``timer`` if it is set; returns None, for ``self._timer = _cancel(self._timer)``."""
    if timer is not None:
        timer.cancel()
    return None
