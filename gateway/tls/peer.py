"""The client certificate the TLS layer verified, handed to the app as the ASGI ``tls`` extension.

uvicorn does not put the peer certificate into the ASGI scope, so its HTTP protocol is
subclassed: when a connection is made (after the handshake, so after OpenSSL verified the
certificate against the client CA), the certificate is read once from the TLS transport,
and every request on that connection carries it as ``scope["extensions"]["tls"]`` in the
shape of the ASGI TLS extension (``client_cert_chain`` as PEM, leaf first;
``client_cert_name``; ``client_cert_error``; ``tls_version``). Only the server sets it;
nothing a client sends in a request (headers included) reaches it.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING, Final

from cryptography import x509
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

if TYPE_CHECKING:
    from uvicorn._types import ASGI3Application, ASGIReceiveCallable, ASGISendCallable, Scope

TLS_EXTENSION: Final = "tls"
_TLS_VERSIONS: Final = {"TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


def tls_extension(transport: asyncio.BaseTransport) -> dict[object, object] | None:
    """The ASGI TLS extension for a connection that presented a client certificate, else None."""
    ssl_object = transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
        return None
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    cert = x509.load_der_x509_certificate(der)
    return {
        "server_cert": None,
        "client_cert_chain": [ssl.DER_cert_to_PEM_cert(der)],
        "client_cert_name": cert.subject.rfc4514_string(),
        "client_cert_error": None,
        "tls_version": _TLS_VERSIONS.get(ssl_object.version() or ""),
        "cipher_suite": None,
    }


class _WithTlsExtension:
    """The app, with this connection's TLS extension put into every HTTP/WebSocket scope."""

    def __init__(self, app: ASGI3Application, extension: dict[object, object]) -> None:
        self._app = app
        self._extension = extension

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] != "lifespan":
            extensions = scope.setdefault("extensions", {})
            extensions[TLS_EXTENSION] = dict(self._extension)
        await self._app(scope, receive, send)


def _wrap(app: ASGI3Application, transport: asyncio.BaseTransport) -> ASGI3Application:
    extension = tls_extension(transport)
    return app if extension is None else _WithTlsExtension(app, extension)


class TlsHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's default (httptools) HTTP/1.1 protocol, passing the client certificate on."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.app = _wrap(self.app, transport)
        super().connection_made(transport)
